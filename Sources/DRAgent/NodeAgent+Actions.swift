import DRCoordination
import DRCore
import Foundation

/// How the agent carries out each action `decide` returned (after the stale-term check).
extension NodeAgent {
    /// Carries out one action; true when the agent must decide again at once (see `execute`).
    func perform(_ action: Action, local: LocalDatabase) async throws -> Bool {
        switch action {
        case .renewLease(let term):
            // Renewed ahead of this loop's read already (see `renewAheadOfTheRead`).
            if leaderLease.renewedAheadOfTheRead != term { try await renewLease(term: term) }
            if local.forcedPromotion {
                // Leading now: the forced promotion is the cluster's ordinary state again.
                try? await database.clearForcedPromotion()
                log.notice("forced promotion absorbed: this node leads under a term again", metadata: ["term": "\(term)"])
            }
        case .acquireLeadership(let reason):
            // Checked here too, not only by `decide`: a confirmation may have been given since.
            if let promise = failsafe.promise, promise.binds(node.name, at: now) {
                log.notice("not taking the leader key: this node confirmed a leader running without etcd", metadata: ["leader": "\(promise.leader)"])
                return false
            }
            failsafe.acquiring = true
            defer { failsafe.acquiring = false }
            let sentAt = now
            let lease = try await coordinator.grantLease(ttl: config.coordination.leaseTTL)
            switch try await coordinator.acquireLeadership(node: node.name, lease: lease) {
            case .acquired(let record):
                leaderLease.confirmed(id: lease, term: record.term, ttl: config.coordination.leaseTTL, sentAt: sentAt)
                leader = record
                failsafe.leaseFromMembers = false
                armLeaseDeadline()
                lastTermSeen = record.term
                log.notice("leader key acquired", metadata: ["term": "\(record.term)", "reason": "\(reason)"])
                if local.state == .standby {
                    if let handover = switchover, handover.phase == .demoted, handover.to == node.name {
                        let stopped = handoverSeenAt
                        evidence = EvidenceRecorder(
                            declaredAt: leaderMissingSince ?? sentAt, start: stopped.map { ("old primary stopped", $0) },
                            declaredName: "key seen free", now: now, previousPrimary: handover.from)
                        evidenceReason = "switchover from \(handover.from ?? "the old primary") to \(node.name)"
                    } else {
                        evidence = EvidenceRecorder(
                            declaredAt: leaderMissingSince ?? sentAt, start: firstFailedCheck().map { ("first failed check", $0) },
                            now: now, previousPrimary: primaryProgress?.node)
                        evidenceReason =
                            intent.map { "operator failover\($0.acceptDataLoss ? ", data loss accepted" : "")" }
                            ?? "primary lost; \(node.name) promoted automatically"
                    }
                    evidence?.mark("lock acquired", at: now)
                }
                return true
            case .heldBy(let holder):
                try? await coordinator.revoke(lease: lease)
                leader = holder
            }
        case .releaseLeadership(let term, let reason):
            _ = try await coordinator.releaseLeadership(node: node.name, term: term)
            if let lease = leaderLease.id { try? await coordinator.revoke(lease: lease) }
            leaderLease.released()
            armLeaseDeadline()
            log.notice("leader key released", metadata: ["term": "\(term)", "reason": "\(reason)"])
        case .promote(_, let term):
            if evidence == nil {
                // No key was taken for this: the leader's own database came back read-only
                // (a restart within the lease) and is promoted again, on a new timeline the
                // history must show like any other.
                evidence = EvidenceRecorder(
                    declaredAt: now, start: health.failingSince.map { ("first failed check", $0.at) }, declaredName: "came back read-only", now: now,
                    previousPrimary: node.name)
                evidenceReason = "\(node.name)'s database came back read-only while it held the lease; promoted again under term \(term)"
            }
            evidence?.mark("promote issued", at: now)
            try await claimProgress(term: term, local: local)
            try await promoteKeepingTheLease(term: term)
            evidence?.mark("writable", at: now)
            log.notice("promoted", metadata: ["term": "\(term)"])
            // Recorded once the DNS switch decided with the promotion is done (or at once
            // when there is none), so the evidence carries its timestamps.
            evidenceAwaiting = (term, local)
            if intent != nil { try? await coordinator.setFailoverIntent(nil, expiry: operatorIntentExpiry) }
            if switchover?.to == node.name { try? await coordinator.setSwitchoverIntent(nil, expiry: operatorIntentExpiry) }
        case .fence(_, let reason):
            try await fenceDatabase(reason)
        case .restartInPlace(_, let term, let asPrimary, let reason):
            try await restartInPlace(asPrimary: asPrimary, term: term, reason: reason)
        case .dropRestartRequest(_, let reason):
            try await dropRestartRequest(reason)
        case .restartDatabase:
            log.warning("restarting the crashed database", metadata: ["attempt": "\(work.restartsTried + 1)", "of": "\(policy.restartAttempts)"])
            try await database.restart()
            work.restartsTried += 1
        case .crashForDrill:
            // Withdrawn first: a crash that cannot be un-asked must not repeat after a restart.
            try await coordinator.setDrillCrashIntent(node: node.name, false, expiry: operatorIntentExpiry)
            requests.drillCrash = false
            log.critical("failover drill: stopping this primary with an immediate shutdown, as a crash would")
            try await database.crashForDrill()
        case .keepSlots(let create, let drop, _):
            try await database.keepSlots(create: create, drop: drop)
            if !create.isEmpty { log.notice("replication slots created for configured nodes", metadata: ["slots": "\(create.joined(separator: ", "))"]) }
            if !drop.isEmpty { log.notice("replication slots of nodes no longer configured dropped", metadata: ["slots": "\(drop.joined(separator: ", "))"]) }
        case .setSynchronousStandbys(let standbys, _):
            try await database.setSynchronousStandbys(standbys)
            log.notice("synchronous standbys set", metadata: ["standbys": "\(standbys)"])
        case .recordSynchronous(let standbys, let term):
            guard try await coordinator.recordSynchronous(SynchronousRecord(leader: node.name, term: term, standbys: standbys)) else {
                throw AgentError.staleTerm(node: node.name, term: term, what: "recording the synchronous standbys")
            }
            synchronous = SynchronousRecord(leader: node.name, term: term, standbys: standbys)
            log.notice("synchronous standbys recorded in etcd", metadata: ["standbys": "\(standbys)", "term": "\(term)"])
        case .follow(_, let leaderName, _):
            guard let target = config.node(named: leaderName)?.node else { throw AgentError.unknownLeader(node: node.name, leader: leaderName) }
            try await database.follow(target)
            log.notice("following the new leader", metadata: ["leader": "\(leaderName)"])
        case .rejoin(_, let leaderName, let term):
            guard let target = config.node(named: leaderName)?.node else { throw AgentError.unknownLeader(node: node.name, leader: leaderName) }
            log.notice("rejoining as a standby", metadata: ["leader": "\(leaderName)", "term": "\(term)"])
            // Marked fenced first (`FenceMarkerPlan`): a rewind that fails leaves a fenced node.
            do {
                try await database.rejoin(target)
            } catch {
                work.rejoinFailed = RejoinFailure(term: term, message: "\(error)", at: now)
                throw error
            }
            // Started with standby.signal: it can no longer come up writable (the marker goes).
            work.rejoinFailed = nil
            if requests.rejoin {
                requests.rejoin = false
                try? await coordinator.setRejoinIntent(node: node.name, false, expiry: operatorIntentExpiry)
            }
            log.notice("rejoined: starting as a standby", metadata: ["leader": "\(leaderName)"])
        case .cloneStandby(_, let leaderName, let term):
            guard let target = config.node(named: leaderName)?.node else { throw AgentError.unknownLeader(node: node.name, leader: leaderName) }
            log.notice(
                "building this node's database anew as a standby",
                metadata: ["leader": "\(leaderName)", "term": "\(term)", "from": "\(config.replica.createFrom.map(\.rawValue).joined(separator: ", "))"])
            let outcome: StandbyClone.Outcome
            // The loop waits for the build; progress is logged as it comes, and published
            // from this (reentrant) actor meanwhile.
            work.clone = .building(nil)
            let cloning = local, log = log
            do {
                outcome = try await database.cloneStandby(target, from: config.replica.createFrom) { progress in
                    log.notice("building as a standby", metadata: ["progress": "\(progress)"])
                    Task { await self.publishBuilding(progress, local: cloning) }
                }
            } catch {
                work.clone = .failed(RejoinFailure(term: term, message: "\(error)", at: now))
                throw error
            }
            work.clone = .idle
            work.rejoinFailed = nil
            // A new database, started with standby.signal: whatever fence was on the old one
            // is void (the marker goes).
            if requests.rejoin {
                requests.rejoin = false
                try? await coordinator.setRejoinIntent(node: node.name, false, expiry: operatorIntentExpiry)
            }
            if requests.reclone {
                // Done: the next loop must not act on the intent this loop read.
                requests.reclone = false
                try? await coordinator.setReinitIntent(node: node.name, false, expiry: operatorIntentExpiry)
            }
            for skipped in outcome.skipped { log.warning("a standby source did not work", metadata: ["error": "\(skipped)"]) }
            log.notice("built as a standby, starting", metadata: ["leader": "\(leaderName)", "from": "\(outcome.source.rawValue)"])
        case .resumeAsStandby(_, let reason):
            log.notice("leaving the fence as a standby", metadata: ["reason": "\(reason)"])
            do {
                try await database.startAsStandby()
            } catch {
                work.resumeFailedAt = now
                throw error
            }
            work.resumeFailedAt = nil
        case .handOver(let intent, let term):
            return try await handOver(intent, term: term)
        case .guardRestart:
            // Not thrown: nothing else this loop depends on it, and it is tried every loop.
            do { try database.guardRestart() } catch { log.error("the restart guard is missing", metadata: ["error": "\(error)"]) }
        case .switchDNS(let record, let target, let term):
            // Verified before under this term: this is the periodic re-read, which finds drift.
            var recheck = false
            if let known = dnsState[record], known.node == target, known.term == term, case .synced = known.phase { recheck = true }
            dnsState[record] = DNSRecordState(node: target, term: term, phase: .inFlight)
            dnsBatch.append(DNSBatchItem(record: record, node: target, term: term, recheck: recheck))
        case .askFailsafeMembers(let members, let term):
            await askFailsafeMembers(members, term: term)
        case .publishFailsafe(let record):
            guard try await coordinator.publishFailsafe(record) else {
                throw AgentError.staleTerm(node: node.name, term: record.term, what: "listing the failsafe members")
            }
            failsafe.record = record
            try? record.line.write(toFile: failsafeRecordFile, atomically: true, encoding: .utf8)
        case .holdForOperator(let reason):
            hold(reason)
        case .alert(let reason):
            log.critical("\(reason)")
            if case .forcedSplitBrain(let forced, let leader) = reason {
                notify(.splitBrain, .critical, "\(reason)", key: "split-brain-\(forced)-\(leader)-term-\(lastTermSeen ?? 0)", details: ["forced": forced, "leader": leader])
            }
        }
        return false
    }

    /// Renews the leader lease by id; after an agent restart the key still names this node,
    /// so its lease is adopted (etcd leases are renewable by id from any client) instead of
    /// left to lapse.
    func renewLease(term: Int64) async throws {
        guard let lease = leaderLease.id ?? leader?.lease, lease != 0 else {
            log.warning("holding the leader key without a lease to renew", metadata: ["term": "\(term)"])
            return
        }
        let sentAt = now
        // Past the deadline the renewal is worth nothing: the fence has begun.
        let left = leaderLease.book.map { SafetyChecks.leaseDeadline($0, margin: policy.fencingMargin) - sentAt }
        // The member lease rides along when due: one request renews both (docs/fleet.md).
        let member = memberLeaseDue(at: sentAt)
        metrics.etcdRequest(node.name, member == nil ? [.leaderLease] : [.leaderLease, .memberLease])
        let granted = try await coordinator.keepAlive(leases: [lease] + (member.map { [$0] } ?? []), within: left.map { max($0, .milliseconds(100)) })
        if let member {
            if granted[member] != nil { published.memberLeaseRenewedAt = sentAt } else { published.memberLeaseLost() }
        }
        guard let ttl = granted[lease] else { throw CoordinationError.leaseExpired(lease) }
        leaderLease.confirmed(id: lease, term: term, ttl: ttl, sentAt: sentAt)
        failsafe.leaseFromMembers = false
        armLeaseDeadline()
    }

    /// A promotion can outlast the lease (a long WAL replay): the lease is renewed every
    /// interval meanwhile, and the lease deadline treats the node as writable (it may
    /// become so at any moment), so if the renewals fail it is fenced, not left promoting.
    private func promoteKeepingTheLease(term: Int64) async throws {
        work.promotion = .underway
        armLeaseDeadline()  // publishes the lease to the watchdog now that the node may turn writable
        scheduleHeartbeat(term: term)
        defer {
            promotionHeartbeat?.cancel()
            promotionHeartbeat = nil
            // Signalled until the server is seen primary (or fenced): it may still turn writable.
            work.promotion = .signalled
        }
        let log = self.log
        try await database.promote { elapsed in
            log.warning(
                "promotion still running: waiting for WAL replay to finish; the lease is kept meanwhile",
                metadata: ["elapsed": "\(DurationText.format(elapsed))", "term": "\(term)"])
        }
    }

    /// The next lease renewal of a promotion or a fence in progress, one interval from now.
    func scheduleHeartbeat(term: Int64) {
        promotionHeartbeat = clock.schedule(at: now + config.health.interval) { [weak self] in
            await self?.promotionHeartbeatDue(term: term)
        }
    }

    private func promotionHeartbeatDue(term: Int64) async {
        guard let underway = work.leaseWorkUnderway?.rawValue else { return }
        do {
            try await renewLease(term: term)
        } catch CoordinationError.leaseExpired {
            return log.critical("the lease expired during the \(underway): the deadline fences this node", metadata: ["term": "\(term)"])
        } catch {
            log.warning("renewing the lease during the \(underway) failed", metadata: ["error": "\(error)"])
        }
        if work.leaseWorkUnderway != nil { scheduleHeartbeat(term: term) }
    }

    /// Switchover, first half (see `SwitchoverIntent`). A clean stop that fails is recorded
    /// for `decide` (rule `switchover-stop-failed`: fenced, then released), and true is
    /// returned so that it decides again at once.
    private func handOver(_ intent: SwitchoverIntent, term: Int64) async throws -> Bool {
        var handover = intent
        let target = intent.to
        log.notice("switchover: stopping the database cleanly to hand over", metadata: ["to": "\(target)", "term": "\(term)"])
        let end: LSN
        do {
            end = try await database.stopForHandover(within: .seconds(10))
        } catch {
            log.critical("switchover: the clean stop failed; fencing", metadata: ["error": "\(error)"])
            work.handoverFailed = RejoinFailure(term: term, message: "\(error)", at: now)
            return true
        }
        handover.phase = .demoted
        handover.from = node.name
        handover.endLSN = end
        handover.demotedAtMillis = clock.wallMillis
        try await coordinator.setSwitchoverIntent(handover, expiry: operatorIntentExpiry)
        _ = try await perform(.releaseLeadership(term: term, reason: .switchoverHandedOver(to: target, walEnd: end)), local: lastLocal ?? LocalDatabase(state: .fenced, lsn: nil))
        return false
    }

    /// How long a fence may take before it counts as failed. At a missed lease deadline only
    /// what is left of the lease (the fence must be done before another node can take the
    /// key); otherwise long enough for a fast shutdown's checkpoint, since the leader keeps
    /// its lease meanwhile.
    func fenceLimit(_ reason: Reason) -> Duration {
        guard case .leaseRenewalOverdue = reason else { return .seconds(10) }
        guard let book = leaderLease.book else { return policy.fencingMargin }
        return max(.milliseconds(100), book.lastConfirmedRenewalSentAt + book.ttl - now)
    }

    /// Fences the local database and counts it fenced only with proof (no PostgreSQL process
    /// left in its data directory). A leader that can still renew keeps its lease while the
    /// fence runs and after a failed one, so no standby is promoted beside a server whose open
    /// connections may still commit (a stopped postmaster, a server refusing new
    /// connections); the key is released only after the proof.
    func fenceDatabase(_ reason: Reason) async throws {
        log.critical("fencing the local database", metadata: ["reason": "\(reason)"])
        if failsafe.leadingSince != nil, failsafe.endedByFence == nil {
            let refusals = failsafe.lastRefusals.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; ")
            failsafe.endedByFence = (now, clock.wallMillis, refusals.isEmpty ? reason.description : "\(reason) (\(refusals))")
        }
        let limit = fenceLimit(reason)
        // The lease is kept through the fence unless it is already overdue: the deadline
        // timer and the watchdog go on guarding it, and renewals go on every interval.
        let overdue = if case .leaseRenewalOverdue = reason { true } else { false }
        let keptTerm = overdue || leader?.node != node.name ? nil : leaderLease.book?.term
        if keptTerm == nil {
            leaderLease.book = nil
            armLeaseDeadline()
        }
        // A count, not a flag: the deadline can start a second fence while this one runs,
        // and its end must not end this one's renewals.
        work.fence.begin()
        if let keptTerm { scheduleHeartbeat(term: keptTerm) }
        defer {
            if work.leaseWorkUnderway == nil, promotionHeartbeat != nil {
                promotionHeartbeat?.cancel()
                promotionHeartbeat = nil
            }
        }
        let problem: String?
        do {
            problem = try await database.fence(within: limit)
            work.fence.end(failure: nil)
        } catch {
            // Not fenced: reported as it is (down, or primary; the marker goes), so the rules
            // keep the lease and try again instead of treating it as safely stopped.
            work.fence.end(failure: "\(error)")
            notifyFence(reason, failure: "\(error)")
            throw error
        }
        // Proven: nothing of this server can acknowledge a write any more.
        leaderLease.book = nil
        armLeaseDeadline()
        notifyFence(reason, failure: nil)
        if let problem {
            log.critical(
                "fenced, but standby.signal could not be written: a restart would bring the database up writable; stop it from starting until `drctl rejoin`",
                metadata: ["error": "\(problem)"])
        }
    }

    /// Before PostgreSQL can acknowledge a commit as the new primary, etcd must name this
    /// node as the one that leads last: a new leader that crashed before its first progress
    /// write otherwise left the old primary's record there, and `last-leader-resumes` or the
    /// RPO gate then trusted it and erased the new timeline's writes. Written under the term
    /// (nothing is promoted if that term is over, or etcd cannot be reached); the timeline is
    /// the one promotion will start, the position where it starts. The lost primary's
    /// record is kept for the failover's evidence (what this failover lost).
    func claimProgress(term: Int64, local: LocalDatabase) async throws {
        guard primaryProgress?.node != node.name else { return }  // led last already (its own restart)
        progressBeforePromotion = primaryProgress
        let claim = PrimaryProgress(node: node.name, timeline: (local.timeline ?? 0) + 1, lsn: local.lsn ?? LSN(0), standbyLagSeconds: [:], startOfTerm: true)
        guard try await coordinator.publishProgress(claim, term: term) else {
            throw AgentError.staleTerm(node: node.name, term: term, what: "naming this node as the last leader before promoting it")
        }
        primaryProgress = claim
    }
}
