import DRCoordination
import DRCore
import Foundation

/// One agent's client of an `InMemoryEtcd`: every request goes through the store's fault
/// switches for this client, and does what `EtcdCoordinator`'s transaction does.
public struct InMemoryCoordinator: Coordinator {
    let etcd: InMemoryEtcd
    /// Whose requests these are (the node name): what `cutOff` and `loseAnswers` match.
    public let client: String

    typealias Key = CoordinationSnapshot.Key

    public func grantLease(ttl: Duration) async throws -> Int64 {
        try await etcd.request(client, .grantLease) { $0.grant(ttl) }
    }

    public func keepAlive(leases: [Int64], within limit: Duration?) async throws -> [Int64: Duration] {
        try await etcd.request(client, .keepAlive) { store in
            leases.reduce(into: [:]) { granted, lease in granted[lease] = store.renew(lease) }
        }
    }

    public func revoke(lease: Int64) async throws {
        try await etcd.request(client, .revoke) { $0.revoke(lease) }
    }

    public func acquireLeadership(node: String, lease: Int64) async throws -> LeadershipClaim {
        try await etcd.request(client, .acquireLeadership) { store in
            if let held = store.get(Key.leader) {
                return .heldBy(LeaderRecord(node: String(decoding: held.value, as: UTF8.self), term: held.createRevision, lease: held.lease))
            }
            try store.write(Key.leader, Data(node.utf8), lease: lease)
            return .acquired(LeaderRecord(node: node, term: store.revision, lease: lease))
        }
    }

    public func leader() async throws -> LeaderRecord? {
        try await etcd.request(client, .readLeader) { store in
            store.get(Key.leader).map { LeaderRecord(node: String(decoding: $0.value, as: UTF8.self), term: $0.createRevision, lease: $0.lease) }
        }
    }

    public func releaseLeadership(node: String, term: Int64) async throws -> Bool {
        try await etcd.request(client, .releaseLeadership) { store in
            guard let held = store.get(Key.leader), held.createRevision == term, held.value == Data(node.utf8) else { return false }
            store.delete(Key.leader)
            return true
        }
    }

    public func snapshot(writing writes: LoopWrites) async throws -> LoopAnswer {
        await etcd.readDelay(client)
        // With writes it is a write: it fails wherever one of its writes would.
        var carried: Set<InMemoryEtcd.Operation> = []
        if writes.progress != nil { carried.insert(.publishProgress) }
        if writes.member != nil { carried.insert(.publishMember) }
        return try await etcd.request(client, writes.isEmpty ? .snapshot : .snapshotWriting, carrying: carried) { store in
            // The member first: a lease etcd no longer has fails the whole transaction.
            if let member = writes.member { try store.write(Key.members + member.record.name, try JSONEncoder().encode(member.record), lease: member.lease) }
            var written = false
            if let progress = writes.progress { written = try Self.putProgress(progress.progress, term: progress.term, in: &store) }
            return LoopAnswer(
                snapshot: CoordinationSnapshot.decode(prefix: store.prefix, revision: store.revision, entries: store.entries()),
                progressWritten: written, memberWritten: writes.member != nil)
        }
    }

    /// The tests step the agents themselves; nothing waits between loops.
    public func waitForLeaderChange(after revision: Int64, within limit: Duration) async -> Bool { false }

    public func publish(_ member: MemberRecord, lease: Int64) async throws {
        let value = try JSONEncoder().encode(member)
        try await etcd.request(client, .publishMember) { try $0.write(Key.members + member.name, value, lease: lease) }
    }

    public func publishProgress(_ progress: PrimaryProgress, term: Int64) async throws -> Bool {
        return try await etcd.request(client, .publishProgress) { store in try Self.putProgress(progress, term: term, in: &store) }
    }

    static func putProgress(_ progress: PrimaryProgress, term: Int64, in store: inout InMemoryEtcd.Store) throws -> Bool {
        guard let held = store.get(Key.leader), held.createRevision == term, held.value == Data(progress.node.utf8) else { return false }
        let value = try JSONEncoder().encode(progress)
        try store.write(Key.progress, value)
        try store.write(Key.legacyProgress, value)
        return true
    }

    public func recordSynchronous(_ record: SynchronousRecord) async throws -> Bool {
        try await putWhileLeading(Key.synchronous, try JSONEncoder().encode(record), leader: record.leader, term: record.term, .recordSynchronous)
    }

    public func publishFailsafe(_ record: FailsafeRecord) async throws -> Bool {
        try await putWhileLeading(Key.failsafe, try JSONEncoder().encode(record), leader: record.leader, term: record.term, .publishFailsafe)
    }

    private func putWhileLeading(_ key: String, _ value: Data, leader: String, term: Int64, _ operation: InMemoryEtcd.Operation) async throws -> Bool {
        try await etcd.request(client, operation) { store in
            guard let held = store.get(Key.leader), held.createRevision == term, held.value == Data(leader.utf8) else { return false }
            try store.write(key, value)
            return true
        }
    }

    public func setFailoverIntent(_ intent: FailoverIntent?, expiry: Duration) async throws {
        try await setIntent(Key.failover, intent.map { try JSONEncoder().encode($0) }, expiry: expiry)
    }

    public func setSwitchoverIntent(_ intent: SwitchoverIntent?, expiry: Duration) async throws {
        try await setIntent(Key.switchover, intent.map { try JSONEncoder().encode($0) }, expiry: expiry)
    }

    public func setRejoinIntent(node: String, _ requested: Bool, expiry: Duration) async throws {
        try await setIntent(Key.rejoin + node, requested ? Data("rejoin".utf8) : nil, expiry: expiry)
    }

    public func setDrillCrashIntent(node: String, _ requested: Bool, expiry: Duration) async throws {
        try await setIntent(Key.drillCrash + node, requested ? Data("crash".utf8) : nil, expiry: expiry)
    }

    public func setRestartIntent(node: String, _ request: RestartRequest?, expiry: Duration) async throws {
        try await setIntent(Key.restart + node, request?.value, expiry: expiry)
    }

    public func setReinitIntent(node: String, _ requested: Bool, expiry: Duration) async throws {
        try await setIntent(Key.reinit + node, requested ? Data("reinit".utf8) : nil, expiry: expiry)
    }

    /// Pauses automatic failover, as `drctl pause` does.
    public func setPaused(_ paused: Bool) async throws {
        try await etcd.request(client, .writeIntent) { store in
            if paused { try store.write(Key.pause, Data("paused".utf8)) } else { store.delete(Key.pause) }
        }
    }

    public func appendHistory(_ evidence: FailoverEvidence) async throws {
        try await etcd.request(client, .appendHistory) { $0.appendHistory(evidence) }
    }

    public func appendFailsafeEpisode(_ episode: FailsafeEpisode) async throws {
        try await etcd.request(client, .appendHistory) { $0.appendEpisode(episode) }
    }

    private func setIntent(_ key: String, _ value: Data?, expiry: Duration) async throws {
        try await etcd.request(client, .writeIntent) { store in
            guard let value else { return store.delete(key) }
            try store.write(key, value, lease: store.grant(expiry))
        }
    }
}
