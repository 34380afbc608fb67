import DRCore
import DRSystem
import Foundation

/// What an agent keeps about failsafe (`failover.failsafe`): the membership the leader
/// must hear from, the promise this member gave, and the episode under way, if any.
struct FailsafeState {
    /// The `failsafe` key as last read from etcd (or from disk after a restart).
    var record: FailsafeRecord?
    /// This member's promise to a leader running without etcd.
    var promise: FailsafePromise?
    /// This leader has kept its database writable without etcd since then (its clock, and
    /// wall-clock milliseconds for reports).
    var leadingSince: (at: AgentInstant, millis: Int64)?
    /// The episode ended with a fence, and why (it is recorded once etcd answers).
    var endedByFence: (at: AgentInstant, millis: Int64, why: String)?
    /// The members that confirmed this leader's last round, and how many rounds passed.
    var confirmedBy: [String] = []
    var rounds = 0
    /// The last round's members that did not confirm, with why (logged when it changes).
    var lastRefusals: [String: String] = [:]
    /// This member has been confirming `promise.leader` since then (wall-clock milliseconds).
    var confirmingSinceMillis: Int64?
    /// When each member's record was last read: a restarting agent stays listed a while.
    var memberSeenAt: [String: AgentInstant] = [:]
    /// A leader-key claim is in flight: no confirmation may be given meanwhile.
    var acquiring = false
    /// Why this member last refused a leader (logged when it changes).
    var lastRefusal: String?
    /// The term this leader was confirmed under.
    var term: Int64?
    /// The lease bookkeeping was last extended by the members, not by etcd: etcd's lease
    /// may be gone while this leader's deadline still holds.
    var leaseFromMembers = false
    /// A round is being asked; the next one is due at this timer.
    var roundInFlight = false
    var nextRound: Task<Void, Never>?
}

/// Failsafe on the agent's side: the leader's rounds of confirmations, a member's answer,
/// and what both keep on disk so that a restart during an etcd outage changes nothing.
extension NodeAgent {
    var failsafeRecordFile: String { "\(stateDir)/\(node.name).failsafe" }
    var failsafePromiseFile: String { "\(stateDir)/\(node.name).failsafe-promise" }

    /// A member's answer to `POST /failsafe`. A confirmation is a promise, kept on disk: this
    /// node takes no leader key for a TTL from now.
    public func answerFailsafe(_ request: FailsafeRequest) -> FailsafeAnswer {
        let etcdFresh = lastRevision != nil
        let voter = FailsafeVoter(
            me: node.name, cluster: config.cluster, enabled: policy.failsafe, local: lastLocal?.state ?? .down,
            leadingOrTakingOver: leader?.node == node.name || leaderLease.book != nil || work.promotion.isUnderway || failsafe.acquiring,
            lastTermSeen: lastTermSeen, etcdLeader: etcdFresh ? leader : nil, operatorIntent: etcdFresh && (intent != nil || switchover != nil))
        let answer = FailsafeVote.answer(request, voter: voter)
        guard answer.accepted else {
            if answer.reason != failsafe.lastRefusal {
                log.warning("refused to confirm a leader running without etcd", metadata: ["leader": "\(request.leader)", "reason": "\(answer.reason ?? "")"])
            }
            failsafe.lastRefusal = answer.reason
            return answer
        }
        let ttl = max(.milliseconds(request.ttlMillis), config.coordination.leaseTTL)
        var promise = FailsafePromise(leader: request.leader, term: request.term, until: now + ttl)
        // A promise is never shortened, whoever asks next.
        if let held = failsafe.promise, held.until > promise.until { promise.until = held.until }
        // A promise this agent would forget on a restart is no promise: its successor would
        // take the lapsed key while the leader still writes. Refused, so the leader fences.
        do {
            try savePromise(promise)
        } catch {
            let why = "\(node.name) could not record its promise: \(error)"
            if why != failsafe.lastRefusal {
                log.error("refused to confirm a leader running without etcd", metadata: ["leader": "\(request.leader)", "reason": "\(why)"])
            }
            failsafe.lastRefusal = why
            return FailsafeAnswer(node: node.name, accepted: false, reason: why)
        }
        failsafe.lastRefusal = nil
        failsafe.promise = promise
        if failsafe.confirmingSinceMillis == nil {
            failsafe.confirmingSinceMillis = clock.wallMillis
            log.notice(
                "confirming a leader running without etcd (failsafe): this node takes no leader key while it does",
                metadata: ["leader": "\(request.leader)", "term": "\(request.term)"])
        }
        return answer
    }

    /// The leader's round: every listed member asked at once; if all confirm, the lease
    /// counts as renewed when the requests were sent (each promise outlasts that).
    func askFailsafeMembers(_ members: [String], term: Int64) async {
        guard !failsafe.roundInFlight else { return }
        failsafe.roundInFlight = true
        var extended = false
        defer {
            failsafe.roundInFlight = false
            // Extended: armed from the new renewal instant. Otherwise asked again an interval on.
            if !extended { armFailsafeRound(at: now + config.health.interval) }
        }
        let sentAt = now
        let request = FailsafeRequest(
            cluster: config.cluster, leader: node.name, term: term, ttlMillis: (leaderLease.book?.ttl ?? config.coordination.leaseTTL).milliseconds)
        let timeout = failsafeRoundTimeout
        let peers = failsafePeers
        let answers = await withTaskGroup(of: (String, Result<FailsafeAnswer, any Error>).self) { group in
            for member in members {
                group.addTask {
                    do { return (member, .success(try await peers.ask(member, request, timeout: timeout))) } catch { return (member, .failure(error)) }
                }
            }
            var all: [(String, Result<FailsafeAnswer, any Error>)] = []
            for await answer in group { all.append(answer) }
            return all
        }
        var refusals: [String: String] = [:]
        for (member, result) in answers {
            switch result {
            case .success(let answer) where answer.accepted && answer.node == member: continue
            case .success(let answer): refusals[member] = answer.reason ?? "refused"
            case .failure(let error): refusals[member] = "unreachable: \(error)"
            }
        }
        failsafe.rounds += 1
        if refusals != failsafe.lastRefusals, !refusals.isEmpty {
            log.critical(
                "failsafe: not every member confirms this leader; the database is fenced at the lease deadline",
                metadata: ["refusals": "\(refusals.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" })"])
        }
        failsafe.lastRefusals = refusals
        // Fenced or deposed meanwhile (the actor is reentrant): nothing to extend.
        guard refusals.isEmpty, var book = leaderLease.book, book.term == term else { return }
        if sentAt > book.lastConfirmedRenewalSentAt {
            book.lastConfirmedRenewalSentAt = sentAt
            leaderLease.book = book
            failsafe.leaseFromMembers = true
            extended = true
            armLeaseDeadline()
        }
        failsafe.confirmedBy = members.sorted()
        failsafe.term = term
        if failsafe.leadingSince == nil {
            failsafe.leadingSince = (now, clock.wallMillis)
            log.critical(
                "etcd unreachable: running in failsafe — the database stays writable while every member confirms this leader",
                metadata: ["term": "\(term)", "members": "\(members.sorted())"])
        }
    }

    /// Failsafe: a round is due as soon as a renewal is an interval late — not only once a
    /// read of etcd has failed, which with several unreachable endpoints costs one time-out
    /// each, possibly past the deadline. Armed with every renewal (`armLeaseDeadline`).
    func armFailsafeRound(at instant: AgentInstant? = nil) {
        failsafe.nextRound?.cancel()
        guard policy.failsafe, let book = leaderLease.book, !paused else { return }
        let latest = SafetyChecks.leaseDeadline(book, margin: policy.fencingMargin) - failsafeRoundTimeout
        let due = instant ?? min(book.lastConfirmedRenewalSentAt + config.health.interval * 2, latest)
        failsafe.nextRound = clock.schedule(at: max(due, now)) { [weak self] in await self?.failsafeRoundDue() }
    }

    var failsafeRoundTimeout: Duration { min(config.health.timeout, config.coordination.leaseTTL / 4) }

    private func failsafeRoundDue() async {
        // Renewed through etcd meanwhile (which armed the next round), or nothing known yet.
        guard let local = lastLocal, let book = leaderLease.book else { return }
        guard failsafe.leaseFromMembers || now - book.lastConfirmedRenewalSentAt >= config.health.interval else { return }
        let decision = decide(view(local, etcdReachable: false), policy: policy, now: now)
        guard decision.rule == "failsafe-leader-asks-members" else { return }
        _ = await execute(decision, local: local)
    }

    /// After a successful etcd read: the episode (if any) ends, and the record and the
    /// members' last sightings are brought up to date.
    func failsafeAfterRead(_ snapshot: CoordinationSnapshot) -> FailsafeEpisode? {
        for member in snapshot.members { failsafe.memberSeenAt[member.name] = now }
        let grace = config.coordination.leaseTTL * 2 + config.health.interval
        failsafe.memberSeenAt = failsafe.memberSeenAt.filter { now - $0.value <= grace }
        if let record = snapshot.failsafe, record != failsafe.record {
            failsafe.record = record
            try? record.line.write(toFile: failsafeRecordFile, atomically: true, encoding: .utf8)
        }
        if failsafe.confirmingSinceMillis != nil, !(failsafe.promise?.binds(node.name, at: now) ?? false) {
            failsafe.confirmingSinceMillis = nil
        }
        guard let since = failsafe.leadingSince else { return nil }
        let fenced = failsafe.endedByFence
        failsafe.leadingSince = nil
        failsafe.endedByFence = nil
        let episode = FailsafeEpisode(
            cluster: config.cluster, leader: node.name, term: failsafe.term ?? lastTermSeen ?? 0, startedAtMillis: since.millis,
            endedAtMillis: fenced?.millis ?? clock.wallMillis, seconds: ((fenced?.at ?? now) - since.at).seconds, confirmedBy: failsafe.confirmedBy,
            rounds: failsafe.rounds, outcome: fenced.map { "fenced: \($0.why)" } ?? "etcd answered again; no failover")
        failsafe.rounds = 0
        log.notice("etcd reachable again: the failsafe episode is recorded", metadata: ["seconds": "\(episode.seconds)", "outcome": "\(episode.outcome)"])
        return episode
    }

    /// Members seen within the grace period: who the leader lists in the `failsafe` key.
    var recentMembers: [String] { failsafe.memberSeenAt.keys.sorted() }

    /// A restarted agent takes back the record and its promise from disk. A promise made
    /// before a reboot counts a whole TTL from now: its instant means nothing in this boot.
    /// A promise file that is there but cannot be read counts the same way: whatever it
    /// promised, a TTL from now outlasts it.
    func loadFailsafeState() {
        if let text = try? String(contentsOfFile: failsafeRecordFile, encoding: .utf8) { failsafe.record = FailsafeRecord(line: text) }
        guard FileManager.default.fileExists(atPath: failsafePromiseFile) else { return }
        guard let text = try? String(contentsOfFile: failsafePromiseFile, encoding: .utf8),
            case let fields = text.split(whereSeparator: \.isWhitespace).map(String.init),
            fields.count == 4, let term = Int64(fields[1]), let until = Int64(fields[2])
        else {
            failsafe.promise = FailsafePromise(leader: "(unknown: damaged promise file)", term: 0, until: now + config.coordination.leaseTTL)
            log.error(
                "the failsafe promise file cannot be read: this node takes no leader key for a lease TTL, as if it had just promised",
                metadata: ["file": "\(failsafePromiseFile)", "ttl": "\(DurationText.format(config.coordination.leaseTTL))"])
            return
        }
        let left =
            fields[3] == FencingWatchdog.bootID()
            ? .nanoseconds(until) - clock.hostMonotonic.sinceStart : config.coordination.leaseTTL
        guard left > .zero else { return }
        failsafe.promise = FailsafePromise(leader: fields[0], term: term, until: now + left)
        log.notice("a failsafe promise from before this agent started still holds", metadata: ["leader": "\(fields[0])", "left": "\(DurationText.format(left))"])
    }

    /// `LEADER TERM UNTIL_NS BOOT_ID`, the instant on CLOCK_MONOTONIC.
    private func savePromise(_ promise: FailsafePromise) throws {
        let until = clock.hostMonotonic + (promise.until - now)
        let text = "\(promise.leader) \(promise.term) \(until.sinceStart.nanoseconds) \(FencingWatchdog.bootID())\n"
        try DurableFile.write(Data(text.utf8), to: failsafePromiseFile)
    }

    /// What the HTTP API and metrics show about failsafe.
    var failsafeStatus: FailsafeStatus? {
        if let since = failsafe.leadingSince, failsafe.endedByFence == nil {
            return FailsafeStatus(role: .leader, leader: node.name, term: leaderLease.book?.term, sinceMillis: since.millis, confirmedBy: failsafe.confirmedBy)
        }
        if let millis = failsafe.confirmingSinceMillis, let promise = failsafe.promise, promise.binds(node.name, at: now) {
            return FailsafeStatus(role: .member, leader: promise.leader, term: promise.term, sinceMillis: millis, confirmedBy: [])
        }
        return nil
    }
}

extension NodeAgent {
    /// Failsafe as this agent's API shows it (tests read it too).
    public var currentFailsafe: FailsafeStatus? { failsafeStatus }
}
