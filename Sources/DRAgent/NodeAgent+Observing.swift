import DRCoordination
import DRCore
import Foundation

/// What the agent observes each loop: its own database, and the cluster as etcd holds it,
/// with the bookkeeping both feed (failure streaks, when the leader went missing, terms seen).
extension NodeAgent {
    func observeLocal() async -> LocalDatabase {
        let result = await database.observe()
        probeResult = result
        var local = LocalDatabase(state: .down, failedChecks: 0, timeline: nil, lsn: nil, tags: node.tags)
        switch result {
        case .primary(let state):
            local.state = .primary
            local.restartGuarded = database.restartGuarded()
            local.timeline = state.timeline
            local.lsn = state.currentLSN
            local.synchronousStandbys = SynchronousStandbyNames.parse(state.synchronousStandbyNames)
            local.synchronousConfirmed = confirmedSynchronous(state)
            local.commitsSkipSynchronous = !state.asynchronousCommits.isEmpty
            local.forcedPromotion = state.forcedPromotion != nil
            local.slots = state.slots
        case .standby(let state):
            // Started in recovery (by init, by hand) after a fence: still fenced, never a
            // candidate, until a rejoin rewinds it and removes the marker.
            local.state = FileManager.default.fileExists(atPath: fenceMarker) ? .fenced : .standby
            local.timeline = state.timeline
            local.lsn = state.bestLSN
            local.streamingFrom = upstreamName(state)
            local.archiveRecovery = database.archiveRecoveryUnderway()
        case .unreachable, .failed:
            local.state = FileManager.default.fileExists(atPath: fenceMarker) ? .fenced : .down
            local.postmasterGone = database.postmasterRunning() == false
        }
        let healthy = local.state == .primary || local.state == .standby
        let streaming: Bool? = if case .standby(let state) = result { state.walReceiverStatus == "streaming" } else { nil }
        health.record(healthy: healthy, streaming: streaming, at: now, wallMillis: clock.wallMillis)
        if healthy { work.restartsTried = 0 }
        local.failedChecks = health.failedChecks
        local.upstreamLostSince = health.upstreamLostSince
        local.pendingRestart = result.activity?.pendingRestart == true
        // Only when the server does not answer: a running one has a database, whatever
        // the directory looks like from here. A cold region's node is empty by design: it
        // is built by `region activate` (or an operator's `drctl reinit`), never by itself.
        local.dataDirectoryEmpty = !healthy && region.role != .cold && database.dataDirectoryEmpty()
        local.fencedForSwitchover = (try? String(contentsOfFile: fenceMarker, encoding: .utf8)).map(FenceMarkerPlan.isSwitchover) == true
        return local
    }

    /// The configured synchronous standbys that hold every commit acknowledged so far:
    /// PostgreSQL counts them as synchronous, and they have flushed past the position at
    /// which this agent first saw them configured (commits before that did not wait for them).
    func confirmedSynchronous(_ state: PrimaryState) -> [String] {
        let configured = SynchronousStandbyNames.parse(state.synchronousStandbyNames)
        if synchronousSince?.standbys != configured { synchronousSince = (configured, state.currentLSN) }
        guard let since = synchronousSince?.lsn else { return [] }
        return state.replication.filter { connection in
            configured.contains(connection.applicationName) && ["sync", "quorum"].contains(connection.syncState)
                && (connection.flushLSN.map { $0 >= since } ?? false)
        }.map(\.applicationName).sorted()
    }

    /// The configured node that `primary_conninfo` points at.
    func upstreamName(_ state: StandbyState) -> String? {
        guard let text = state.primaryConninfo, let upstream = try? Conninfo.parse(text) else { return nil }
        return config.nodes.first { $0.node.connection.host == upstream.host && $0.node.connection.port == upstream.port }?.node.name
    }

    /// Reads the cluster from etcd in one consistent snapshot; false (keeping the last
    /// values) only when etcd cannot be read at all — an unreadable record is skipped.
    /// The leader's progress (`progressToWrite`) and this node's member record
    /// (`memberToWrite`) ride in the same transaction when they are due.
    func readCluster(_ local: LocalDatabase) async -> Bool {
        let snapshot: CoordinationSnapshot
        let writes = LoopWrites(progress: progressToWrite(), member: memberToWrite(local))
        let sentMillis = clock.wallMillis
        do {
            let sent = now
            do {
                metrics.etcdRequest(node.name, [.read] + (writes.progress == nil ? [] : [.progress]) + (writes.member == nil ? [] : [.memberRecord]))
                // Forgotten until etcd confirms: written again next loop if this fails.
                if writes.member != nil { published.member = nil }
                let answer = try await coordinator.snapshot(writing: writes)
                snapshot = answer.snapshot
                if let progress = writes.progress { progressWritten(progress, answer.progressWritten, at: sent) }
                if let member = writes.member, answer.memberWritten { published.member = .init(member.record, at: sent) }
            } catch let error as CoordinationError where !writes.isEmpty && !error.isUnavailable {
                // etcd refused a write but answered (its space quota exceeded, a write timed
                // out, a member lease it no longer has): a read may still work. Unreachable, a
                // second request would only wait again.
                published.progress = nil
                if EtcdPublication.namesLostLease(error) { published.memberLeaseLost() }
                log.warning("writing to etcd with the read failed; reading without", metadata: ["error": "\(error)"])
                metrics.etcdRequest(node.name, .read)
                snapshot = try await coordinator.snapshot()
            }
        } catch {
            log.warning("etcd unreachable", metadata: ["error": "\(error)"])
            lastRevision = nil
            etcdUnreachable(error)
            return false
        }
        etcdAnswered()
        etcdLastContactMillis = clock.wallMillis
        lastRevision = snapshot.revision
        lastSnapshot = snapshot
        leader = snapshot.leader
        members = snapshot.members
        primaryProgress = snapshot.progress
        clockOffset.observe(snapshot.progress, me: node.name, sentMillis: sentMillis, answeredMillis: clock.wallMillis)
        paused = snapshot.paused
        intent = snapshot.failoverIntent
        switchover = snapshot.switchover
        requests = NodeRequests(node: node.name, in: snapshot)
        synchronous = snapshot.synchronous
        reportSkipped(snapshot.skipped)
        if let episode = failsafeAfterRead(snapshot) { endedFailsafeEpisode = episode }
        // Kept after the key goes: the old leader's agent may publish its failure just after.
        if let name = leader?.node ?? lastLeaderMember?.name {
            let current = members.first { $0.name == name } ?? (lastLeaderMember?.name == name ? lastLeaderMember : nil)
            if current != lastLeaderMember { lastLeaderMemberSeenAt = now }
            lastLeaderMember = current
        }
        if switchover?.phase == .demoted {
            if handoverSeenAt == nil { handoverSeenAt = now }
        } else {
            handoverSeenAt = nil
        }
        if let leader {
            leaderMissingSince = nil
            // A leader that ran without etcd and takes the key back under a new term is no failover.
            let confirmedLately = failsafe.promise.map { $0.leader == leader.node && now < $0.until + config.coordination.leaseTTL } ?? false
            let failsafeLeaderBack = confirmedLately || (leader.node == node.name && leaderLease.book != nil)
            if let seen = lastTermSeen, seen != leader.term, !handoverUnderway, switchover?.phase != .demoted, !failsafeLeaderBack {
                lastFailoverSeen = now
            }
            lastTermSeen = leader.term
        } else if leaderMissingSince == nil {
            leaderMissingSince = now
            if let term = lastTermSeen {
                log.warning("leader key missing: primary declared failed", metadata: ["last_term": "\(term)"])
            } else {
                log.info("no leader yet")
            }
        }
        handoverUnderway = switchover?.phase == .demoted
        // Another holder deposes this leader. A free key does too — except for a leader that
        // outlived its etcd lease in failsafe: it keeps its deadline until it takes the key again.
        let keptByFailsafe = leader == nil && failsafe.leaseFromMembers
        if leader?.node != node.name, leaderLease.book != nil, !keptByFailsafe {
            leaderLease.book = nil
            armLeaseDeadline()
        }
        return true
    }
}
