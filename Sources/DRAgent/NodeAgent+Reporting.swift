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
        let holdsLease = isLeader && leaseBook.map { !SafetyChecks.mustSelfFence($0, now: now, margin: policy.fencingMargin) } == true
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
        guard cloneInFlight else { return }
        building = progress
        var down = local
        down.state = .down
        await publish(down)
    }

    /// This node's member record (and, from the leader, the primary's progress) in etcd.
    func publish(_ local: LocalDatabase) async {
        do {
            if let lease = memberLease {
                do { _ = try await coordinator.keepAlive(lease: lease) } catch CoordinationError.leaseExpired { memberLease = nil }
            }
            if memberLease == nil { memberLease = try await coordinator.grantLease(ttl: config.coordination.leaseTTL) }
            guard let lease = memberLease else { return }
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
                lagBytes: behind, healthy: local.failedChecks == 0 && role != .fenced && !local.archiveRecovery && building == nil, failedChecks: local.failedChecks,
                nofailover: node.tags.contains(.nofailover), priority: region.priority,
                publishedAtMillis: clock.wallMillis)
            record.hold = leader == nil ? lastHold?.description : nil
            record.rejoinFailure = (cloneFailed ?? rejoinFailed)?.message
            record.building = building?.description
            record.configHash = configHash.isEmpty ? nil : configHash
            record.failingSinceMillis = failingSince?.millis
            record.failingForMillis = failingSince.map { (now - $0.at).milliseconds }
            try await coordinator.publish(record, lease: lease)
            if let leader, leader.node == node.name, case .primary(let state)? = probeResult {
                // A standby whose loss window is unknown is left out: unknown counts as beyond the RPO.
                walHistory.record(state.currentLSN, at: now)
                let lag = Dictionary(
                    state.replication.compactMap { connection in
                        connection.flushLSN.flatMap { walHistory.lossWindow(flushed: $0, now: now) }.map { (connection.applicationName, $0.seconds) }
                    }, uniquingKeysWith: max)
                var progress = PrimaryProgress(node: node.name, timeline: state.timeline, lsn: state.currentLSN, standbyLagSeconds: lag)
                progress.term = leader.term
                if try await !coordinator.publishProgress(progress, term: leader.term) {
                    log.warning("progress not published: this node no longer holds the leader key under its term", metadata: ["term": "\(leader.term)"])
                }
            }
        } catch {
            log.warning("publishing to etcd failed", metadata: ["error": "\(error)"])
        }
    }
}
