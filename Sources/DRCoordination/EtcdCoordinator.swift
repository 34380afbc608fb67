import DRCore
import Foundation

/// drctl's keys in etcd, under the cluster's prefix:
/// `leader` (the node name, bound to the leader's lease; its create revision is the term)
/// and `members/NAME` (each agent's `MemberRecord`, bound to that agent's lease).
public struct EtcdCoordinator: Coordinator {
    let gateway: EtcdGateway
    public var connectionsOpened: Int? { gateway.connectionsOpened }
    let prefix: String
    /// The one long-lived watch of the leader key every wait shares (see `LeaderWatch`).
    let leaderWatch: LeaderWatch

    public init(gateway: EtcdGateway, prefix: String) {
        self.gateway = gateway
        self.prefix = prefix.hasSuffix("/") ? prefix : prefix + "/"
        self.leaderWatch = LeaderWatch(gateway: gateway, key: self.prefix + CoordinationSnapshot.Key.leader)
    }

    var leaderKey: String { prefix + CoordinationSnapshot.Key.leader }
    var membersPrefix: String { prefix + CoordinationSnapshot.Key.members }

    public func grantLease(ttl: Duration) async throws -> Int64 {
        let seconds = max(1, Int(ttl.seconds.rounded(.up)))
        let response = try await gateway.call("/v3/lease/grant", ["TTL": seconds])
        guard let id = EtcdJSON.int64(response["ID"]) else {
            throw CoordinationError.malformed(endpoint: "", path: "/v3/lease/grant", detail: "no lease ID")
        }
        return id
    }

    public func keepAlive(leases: [Int64], within limit: Duration?) async throws -> [Int64: Duration] {
        guard !leases.isEmpty else { return [:] }
        let path = "/v3/lease/keepalive"
        return try Self.grants(try await gateway.callStreaming(path, leases.map { ["ID": String($0)] }, within: limit), for: leases, path: path)
    }

    /// The TTL etcd granted each lease, from the keep-alive stream's answers (one per line).
    /// A lease answered without a TTL is gone (etcd omits a zero). An error in the stream
    /// (the gateway sends it after its 200, e.g. "etcdserver: no leader" during an election)
    /// is an error of the call, never the loss of a lease; neither is a lease left unanswered.
    static func grants(_ answers: [[String: Any]], for leases: [Int64], path: String) throws -> [Int64: Duration] {
        var granted: [Int64: Duration] = [:]
        var answered: Set<Int64> = []
        for answer in answers {
            if let error = answer["error"] as? [String: Any] {
                let status = EtcdJSON.int64(error["http_code"]).map(Int.init) ?? 500
                throw CoordinationError.server(endpoint: "", path: path, status: status, message: error["message"] as? String ?? "\(error)")
            }
            let result = answer["result"] as? [String: Any]
            guard let id = EtcdJSON.int64(result?["ID"]) else {
                throw CoordinationError.malformed(endpoint: "", path: path, detail: "an answer without a lease ID")
            }
            answered.insert(id)
            if let ttl = EtcdJSON.int64(result?["TTL"]), ttl > 0 { granted[id] = .seconds(ttl) }
        }
        guard answered.isSuperset(of: leases) else {
            throw CoordinationError.malformed(endpoint: "", path: path, detail: "\(leases.count) leases sent, \(answered.count) answered")
        }
        return granted
    }

    public func revoke(lease: Int64) async throws {
        do {
            _ = try await gateway.call("/v3/lease/revoke", ["ID": String(lease)])
        } catch CoordinationError.server(_, _, _, let message) where message.contains("lease not found") {
            // Already gone: revoking is idempotent.
        }
    }

    public func acquireLeadership(node: String, lease: Int64) async throws -> LeadershipClaim {
        let key = EtcdJSON.base64(leaderKey)
        let response = try await gateway.call(
            "/v3/kv/txn",
            [
                "compare": [["key": key, "result": "EQUAL", "target": "CREATE", "create_revision": "0"]],
                "success": [["request_put": ["key": key, "value": EtcdJSON.base64(node), "lease": String(lease)]]],
                "failure": [["request_range": ["key": key]]],
            ])
        // etcd omits `succeeded` when it is false.
        if response["succeeded"] as? Bool == true {
            let header = response["header"] as? [String: Any]
            guard let revision = EtcdJSON.int64(header?["revision"]) else {
                throw CoordinationError.malformed(endpoint: "", path: "/v3/kv/txn", detail: "no header revision")
            }
            // The put created the key at the transaction's revision: that is the term.
            return .acquired(LeaderRecord(node: node, term: revision, lease: lease))
        }
        let responses = response["responses"] as? [[String: Any]]
        let range = responses?.first?["response_range"] as? [String: Any]
        if let kv = (range?["kvs"] as? [[String: Any]])?.first, let holder = Self.leaderRecord(kv) {
            // Our own claim, applied by a member whose answer never came (a time-out or
            // "request timed out"), the gateway having sent it again: ours, not another's —
            // revoking the lease as a lost claim would drop the key just taken.
            if holder.node == node, holder.lease == lease { return .acquired(holder) }
            return .heldBy(holder)
        }
        // The holder's lease expired between compare and read: the caller retries next loop.
        throw CoordinationError.malformed(endpoint: "", path: "/v3/kv/txn", detail: "leader key vanished during the transaction")
    }

    public func leader() async throws -> LeaderRecord? {
        let response = try await gateway.call("/v3/kv/range", ["key": EtcdJSON.base64(leaderKey)])
        guard let kv = (response["kvs"] as? [[String: Any]])?.first else { return nil }
        return Self.leaderRecord(kv)
    }

    public func releaseLeadership(node: String, term: Int64) async throws -> Bool {
        let key = EtcdJSON.base64(leaderKey)
        let response = try await gateway.call(
            "/v3/kv/txn",
            [
                "compare": [
                    ["key": key, "result": "EQUAL", "target": "CREATE", "create_revision": String(term)],
                    ["key": key, "result": "EQUAL", "target": "VALUE", "value": EtcdJSON.base64(node)],
                ],
                "success": [["request_delete_range": ["key": key]]],
            ])
        return response["succeeded"] as? Bool == true
    }

    public func publish(_ member: MemberRecord, lease: Int64) async throws {
        let value = try JSONEncoder().encode(member)
        _ = try await gateway.call(
            "/v3/kv/put",
            [
                "key": EtcdJSON.base64(membersPrefix + member.name), "value": value.base64EncodedString(), "lease": String(lease),
            ])
    }

    /// The members whose records this version can read; the others are skipped (see
    /// `snapshot()` for which and why).
    public func members() async throws -> [MemberRecord] {
        try await snapshot().members
    }

    /// Every key an agent decides from, read in one transaction — so leader, members,
    /// progress and intents are all of one etcd revision — and decoded record by record.
    /// Throws only when etcd cannot be read at all; a bad record is skipped, not fatal.
    /// The writes go first: the member record in both branches, the progress only if its
    /// node still holds the leader key under its term.
    public func snapshot(writing writes: LoopWrites) async throws -> LoopAnswer {
        typealias Key = CoordinationSnapshot.Key
        func range(_ key: String, prefix: Bool = false) -> [String: Any] {
            var request: [String: Any] = ["key": EtcdJSON.base64(self.prefix + key)]
            if prefix { request["range_end"] = EtcdJSON.prefixEnd(self.prefix + key) }
            return ["request_range": request]
        }
        let reads = [
            range(Key.leader), range(Key.members, prefix: true), range(Key.progress), range(Key.legacyProgress), range(Key.synchronous), range(Key.failsafe),
            range(Key.intents, prefix: true),
        ]
        var always = reads
        if let member = writes.member {
            let value = try JSONEncoder().encode(member.record).base64EncodedString()
            let put: [String: Any] = ["key": EtcdJSON.base64(membersPrefix + member.record.name), "value": value, "lease": String(member.lease)]
            always.insert(["request_put": put], at: 0)
        }
        var body: [String: Any] = ["compare": [[String: Any]](), "success": always]
        if let progress = writes.progress {
            let value = try JSONEncoder().encode(progress.progress).base64EncodedString()
            let puts: [[String: Any]] = [Key.progress, Key.legacyProgress].map { key in
                ["request_put": ["key": EtcdJSON.base64(self.prefix + key), "value": value]]
            }
            body = [
                "compare": leadingComparison(leader: progress.progress.node, term: progress.term), "success": puts + always, "failure": always,
            ]
        }
        let path = "/v3/kv/txn"
        let response = try await gateway.call(path, body)
        guard let revision = EtcdJSON.int64((response["header"] as? [String: Any])?["revision"]),
            let responses = response["responses"] as? [[String: Any]]
        else {
            throw CoordinationError.malformed(endpoint: "", path: path, detail: "no header revision or responses")
        }
        let entries = responses.flatMap { item -> [CoordinationSnapshot.Entry] in
            let kvs = (item["response_range"] as? [String: Any])?["kvs"] as? [[String: Any]] ?? []
            return kvs.compactMap { kv in
                guard let key = EtcdJSON.decode(kv["key"]) else { return nil }
                // etcd omits empty values; a value that is not base64 reads as empty and is skipped.
                let value = (kv["value"] as? String).flatMap { Data(base64Encoded: $0) } ?? Data()
                return CoordinationSnapshot.Entry(
                    key: key, value: value, createRevision: EtcdJSON.int64(kv["create_revision"]) ?? 0,
                    lease: EtcdJSON.int64(kv["lease"]) ?? 0, modRevision: EtcdJSON.int64(kv["mod_revision"]) ?? 0)
            }
        }
        // etcd omits `succeeded` when it is false.
        return LoopAnswer(
            snapshot: CoordinationSnapshot.decode(prefix: prefix, revision: revision, entries: entries),
            progressWritten: writes.progress != nil && response["succeeded"] as? Bool == true, memberWritten: writes.member != nil)
    }

    /// Returns as soon as the leader key changes after `revision` (released, expired,
    /// taken), or after `limit`: a standby learns that the leader is gone at once instead
    /// of at its next poll. False when nothing changed in time (or no watch could be made).
    public func waitForLeaderChange(after revision: Int64, within limit: Duration) async -> Bool {
        await leaderWatch.wait(after: revision, within: limit)
    }

    static func leaderRecord(_ kv: [String: Any]) -> LeaderRecord? {
        guard let node = EtcdJSON.decode(kv["value"]), let term = EtcdJSON.int64(kv["create_revision"]) else { return nil }
        return LeaderRecord(node: node, term: term, lease: EtcdJSON.int64(kv["lease"]) ?? 0)
    }
}
