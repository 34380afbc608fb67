import DRCoordination
import DRCore
import Foundation

/// What the agent shows outside after each loop: the snapshot its HTTP API answers from,
/// the node's gauges, and its member record in etcd.
extension NodeAgent {
    /// Unreadable etcd records are counted every read (a rate shows they persist), and
    /// logged when the set of them changes, not every loop.
    func reportSkipped(_ skipped: [SkippedRecord]) {
        metrics.skippedRecords(node.name, skipped.count)
        let now = Set(skipped)
        guard now != lastSkipped else { return }
        for record in now.subtracting(lastSkipped) {
            log.warning("skipping an etcd record this version cannot read", metadata: ["key": "\(record.key)", "reason": "\(record.reason)"])
        }
        lastSkipped = now
    }

    /// The snapshot the HTTP API answers from, and the gauges, after each loop.
    func report(_ local: LocalDatabase) {
        var streaming = false
        if case .standby(let state)? = probeResult { streaming = state.walReceiverStatus == "streaming" }
        let isLeader = leader?.node == node.name
        var lagBytes: UInt64?
        if local.state == .standby, let primary = primaryProgress?.lsn, let received = local.lsn { lagBytes = primary.bytesAhead(of: received) }
        let lagSeconds = local.state == .standby ? primaryProgress?.standbyLagSeconds[node.name] : nil
        let holdsLease = isLeader && leaderLease.book.map { !SafetyChecks.mustSelfFence($0, now: now, margin: policy.fencingMargin) } == true
        var snapshot = NodeSnapshot(
            node: node.name, region: region.name, state: local.state.rawValue, leader: leader?.node, term: leader?.term, holdsLease: holdsLease,
            timeline: local.timeline, lsn: local.lsn, streaming: streaming, lagBytes: lagBytes, lagSeconds: lagSeconds,
            noloadbalance: node.tags.contains(.noloadbalance), paused: paused, hold: lastHold?.description, rule: lastRule, tickedAt: board.now)
        snapshot.failsafe = failsafeStatus
        snapshot.tags = node.tags.map(\.rawValue).sorted()
        snapshot.describe(probeResult, etcdLastContactMillis: etcdLastContactMillis)
        if config.failover.synchronous {
            snapshot.synchronous = local.state == .standby && synchronous.map { $0.term == leader?.term && $0.standbys.contains(node.name) } == true
        }
        board.publish(snapshot)
        board.publish(ClusterSighting(snapshot: lastSnapshot, etcdReachable: lastRevision != nil, dns: dnsState), of: node.name)
        metrics.failsafe(node.name, snapshot.failsafe)
        let up = local.state == .primary || local.state == .standby
        metrics.nodeUp(node.name, up)
        metrics.healthCheck(node.name, passed: up)
        metrics.consecutiveFailures(node.name, local.failedChecks)
        metrics.replication(node.name, lagBytes: lagBytes, lagSeconds: lagSeconds)
        metrics.leader(node.name, term: leader?.term, isLeader: isLeader)
        metrics.postgres(node.name, probeResult, clusterPaused: paused)
        metrics.etcdContact(node.name, atMillis: etcdLastContactMillis)
        if let opened = coordinator.connectionsOpened { metrics.etcdConnections(node.name, opened: opened) }
    }

    /// A standby build's progress, published in the member record (which also keeps the
    /// member's lease alive through a clone that outlasts it).
    func publishBuilding(_ progress: CloneProgress, local: LocalDatabase) async {
        // A report that arrives after the build ended must not bring back its record.
        guard work.clone.isBuilding else { return }
        work.clone = .building(progress)
        var down = local
        down.state = .down
        await publish(down)
    }

    /// This node's member record written now, on its own (a standby build's progress
    /// arrives between loops); in the loop it rides in the read (`memberToWrite`).
    func publish(_ local: LocalDatabase) async {
        await keepMemberLease()
        guard let write = memberToWrite(local) else { return }
        // Forgotten until etcd confirms: a write that failed (or whose answer was lost) is
        // written again at the next loop.
        published.member = nil
        metrics.etcdRequest(node.name, .memberRecord)
        do {
            try await coordinator.publish(write.record, lease: write.lease)
            published.member = .init(write.record, at: now)
        } catch {
            if EtcdPublication.namesLostLease(error) { published.memberLeaseLost() }
            log.warning("publishing to etcd failed", metadata: ["error": "\(error)"])
        }
    }

    /// This node's member record, to ride in the loop's read, when `PublicationSchedule`
    /// says it is due (and a member lease is held to bind it to).
    func memberToWrite(_ local: LocalDatabase) -> MemberWrite? {
        guard let lease = published.memberLease else { return nil }
        let record = memberRecord(local)
        let schedule = PublicationSchedule(leaseTTL: config.coordination.leaseTTL)
        let stored = members.first { $0.name == node.name }
        guard schedule.memberDue(record, last: published.member, stored: stored, leaderKnown: leader != nil) else { return nil }
        return MemberWrite(record, lease: lease)
    }

    /// The member lease renewed when due (unless the leader's renewal already carried it:
    /// `renewLease`), or granted when none is held. After the loop's read, and only when
    /// etcd answered it: during an outage a keep-alive would only spend the loop's time.
    func keepMemberLease() async {
        do {
            if let lease = memberLeaseDue(at: now) {
                let sent = now
                metrics.etcdRequest(node.name, .memberLease)
                do {
                    _ = try await coordinator.keepAlive(lease: lease)
                    published.memberLeaseRenewedAt = sent
                } catch CoordinationError.leaseExpired { published.memberLeaseLost() }
            }
            if published.memberLease == nil {
                let sent = now
                metrics.etcdRequest(node.name, .memberLeaseGrant)
                published.memberLease = try await coordinator.grantLease(ttl: config.coordination.leaseTTL)
                published.memberLeaseRenewedAt = sent
            }
        } catch {
            log.warning("keeping the member lease failed", metadata: ["error": "\(error)"])
        }
    }

    /// The member lease to renew with the leader lease, when its renewal is due.
    func memberLeaseDue(at instant: AgentInstant) -> Int64? {
        let schedule = PublicationSchedule(leaseTTL: config.coordination.leaseTTL)
        guard let lease = published.memberLease, schedule.memberLeaseRenewalDue(lastRenewedAt: published.memberLeaseRenewedAt, now: instant) else { return nil }
        return lease
    }

    /// The leader's progress, when it is due: this loop's position and its standbys' loss
    /// windows, under the term this node led at its last read (the transaction checks it).
    func progressToWrite() -> ProgressWrite? {
        guard let leader, leader.node == node.name, case .primary(let state)? = probeResult else { return nil }
        // A standby whose loss window is unknown is left out: unknown counts as beyond the RPO.
        walHistory.record(state.currentLSN, at: now)
        let lag = Dictionary(
            state.replication.compactMap { connection in
                connection.flushLSN.flatMap { walHistory.lossWindow(flushed: $0, now: now) }.map { (connection.applicationName, $0.seconds) }
            }, uniquingKeysWith: max)
        var progress = PrimaryProgress(node: node.name, timeline: state.timeline, lsn: state.currentLSN, standbyLagSeconds: lag)
        progress.term = leader.term
        progress.standbyLSN = Dictionary(
            state.replication.compactMap { connection in connection.flushLSN.map { (connection.applicationName, $0) } }, uniquingKeysWith: max)
        progress.publishedAtMillis = clock.wallMillis
        let schedule = PublicationSchedule(leaseTTL: config.coordination.leaseTTL)
        return schedule.progressDue(progress, last: published.progress, now: now) ? ProgressWrite(progress, term: leader.term) : nil
    }

    /// What the read's transaction said of the progress it carried.
    func progressWritten(_ write: ProgressWrite, _ written: Bool, at sent: AgentInstant) {
        guard written else {
            published.progress = nil
            log.warning("progress not published: this node no longer holds the leader key under its term", metadata: ["term": "\(write.term)"])
            return
        }
        published.progress = .init(write.progress, at: sent)
    }

    /// What this node's member record says after this loop.
    func memberRecord(_ local: LocalDatabase) -> MemberRecord {
        let role: NodeRole =
            switch local.state {
            case .primary: .primary
            case .standby: .standby
            case .fenced: .fenced
            case .down: .down
            }
        var replayed: LSN?
        if case .standby(let state)? = probeResult { replayed = state.replayLSN }
        var behind: UInt64?
        if role == .standby, let primaryLSN = primaryProgress?.lsn, let received = local.lsn {
            behind = primaryLSN.bytesAhead(of: received)
        }
        var record = MemberRecord(
            name: node.name, region: region.name, role: role, timeline: local.timeline, lsn: local.lsn, replayLSN: replayed,
            lagBytes: behind, healthy: local.failedChecks == 0 && role != .fenced && !local.archiveRecovery && !work.clone.isBuilding, failedChecks: local.failedChecks,
            nofailover: node.tags.contains(.nofailover), priority: region.priority,
            publishedAtMillis: clock.wallMillis)
        record.hold = leader == nil ? lastHold?.description : nil
        record.rejoinFailure = (work.cloneFailed ?? work.rejoinFailed)?.message
        record.building = work.clone.progress?.description
        record.configHash = configHash.isEmpty ? nil : configHash
        record.failingSinceMillis = health.failingSince?.millis
        record.failingForMillis = health.failingSince.map { (now - $0.at).milliseconds }
        record.clockOffsetSeconds = clockOffset.reportedSeconds
        return record
    }
}
