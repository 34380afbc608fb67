import DRCore
import DRHTTP
import DRSystem
import Foundation

/// Cluster-wide keys without a lease, so they outlive any agent: the primary's last
/// progress, the operator's intents (pause, failover) and the failover history.
extension EtcdCoordinator {
    var progressKey: String { prefix + CoordinationSnapshot.Key.progress }
    var pauseKey: String { prefix + CoordinationSnapshot.Key.pause }
    var failoverKey: String { prefix + CoordinationSnapshot.Key.failover }
    var switchoverKey: String { prefix + CoordinationSnapshot.Key.switchover }
    func rejoinKey(_ node: String) -> String { prefix + CoordinationSnapshot.Key.rejoin + node }
    func reinitKey(_ node: String) -> String { prefix + CoordinationSnapshot.Key.reinit + node }
    var historyPrefix: String { prefix + "history/" }

    /// Writes the progress under its key and, in the same transaction, under the key older
    /// agents read (see `CoordinationSnapshot.Key.legacyProgress`).
    public func publishProgress(_ progress: PrimaryProgress, term: Int64) async throws -> Bool {
        try await putWhileLeading(
            [CoordinationSnapshot.Key.progress, CoordinationSnapshot.Key.legacyProgress], JSONEncoder().encode(progress), leader: progress.node, term: term)
    }

    public func progress() async throws -> PrimaryProgress? {
        try await get(progressKey).map { try decode(PrimaryProgress.self, $0, key: progressKey) }
    }

    /// Writes the `sync` key only while `record.leader` holds the leader key under
    /// `record.term` (one transaction): a deposed leader can never name a standby.
    /// Returns false when the term was stale and nothing was written.
    public func recordSynchronous(_ record: SynchronousRecord) async throws -> Bool {
        try await putWhileLeading(CoordinationSnapshot.Key.synchronous, JSONEncoder().encode(record), leader: record.leader, term: record.term)
    }

    /// Writes the `failsafe` key under the same guard as the `sync` key.
    public func publishFailsafe(_ record: FailsafeRecord) async throws -> Bool {
        try await putWhileLeading(CoordinationSnapshot.Key.failsafe, JSONEncoder().encode(record), leader: record.leader, term: record.term)
    }

    /// Puts `key` (relative to the prefix) in one transaction with the check that `leader`
    /// holds the leader key under `term`; false when it does not (nothing written).
    func putWhileLeading(_ key: String, _ value: Data, leader: String, term: Int64) async throws -> Bool {
        try await putWhileLeading([key], value, leader: leader, term: term)
    }

    /// Puts `value` under each of `keys` in one transaction, with the same check.
    func putWhileLeading(_ keys: [String], _ value: Data, leader: String, term: Int64) async throws -> Bool {
        let response = try await gateway.call(
            "/v3/kv/txn",
            [
                "compare": leadingComparison(leader: leader, term: term),
                "success": keys.map { key in ["request_put": ["key": EtcdJSON.base64(prefix + key), "value": value.base64EncodedString()]] },
            ])
        // etcd omits `succeeded` when it is false.
        return response["succeeded"] as? Bool == true
    }

    /// A transaction's comparison that `leader` holds the leader key under `term`.
    func leadingComparison(leader: String, term: Int64) -> [[String: Any]] {
        let leaderKey = EtcdJSON.base64(prefix + CoordinationSnapshot.Key.leader)
        return [
            ["key": leaderKey, "result": "EQUAL", "target": "CREATE", "create_revision": String(term)],
            ["key": leaderKey, "result": "EQUAL", "target": "VALUE", "value": EtcdJSON.base64(leader)],
        ]
    }

    public func setPaused(_ paused: Bool) async throws {
        if paused { try await put(pauseKey, Data("paused".utf8)) } else { try await delete(pauseKey) }
    }

    public func isPaused() async throws -> Bool { try await get(pauseKey) != nil }

    /// Writes (or, with nil, withdraws) the operator's failover intent. It lives `expiry`
    /// at most, bound to its own lease: an intent nobody could carry out (its target died)
    /// must not linger and override the cooldown at some later, unrelated failover.
    public func setFailoverIntent(_ intent: FailoverIntent?, expiry: Duration = operatorIntentExpiry) async throws {
        guard let intent else { return try await delete(failoverKey) }
        let lease = try await grantLease(ttl: expiry)
        try await put(failoverKey, try JSONEncoder().encode(intent), lease: lease)
    }

    public func failoverIntent() async throws -> FailoverIntent? {
        try await get(failoverKey).map { try decode(FailoverIntent.self, $0, key: failoverKey) }
    }

    /// Writes (nil: withdraws) the switchover intent, bound to a lease of `expiry` like the
    /// failover intent, so one that cannot be carried out ends by itself.
    public func setSwitchoverIntent(_ intent: SwitchoverIntent?, expiry: Duration = operatorIntentExpiry) async throws {
        guard let intent else { return try await delete(switchoverKey) }
        let lease = try await grantLease(ttl: expiry)
        try await put(switchoverKey, try JSONEncoder().encode(intent), lease: lease)
    }

    public func switchoverIntent() async throws -> SwitchoverIntent? {
        try await get(switchoverKey).map { try decode(SwitchoverIntent.self, $0, key: switchoverKey) }
    }

    /// `drctl rejoin NODE`: asks NODE's agent to rejoin it as a standby (expires like the others).
    public func setRejoinIntent(node: String, _ requested: Bool, expiry: Duration = operatorIntentExpiry) async throws {
        guard requested else { return try await delete(rejoinKey(node)) }
        let lease = try await grantLease(ttl: expiry)
        try await put(rejoinKey(node), Data("rejoin".utf8), lease: lease)
    }

    public func rejoinRequested(node: String) async throws -> Bool { try await get(rejoinKey(node)) != nil }

    /// A confirmed failover drill: asks NODE's agent (the primary's) to crash its database.
    public func setDrillCrashIntent(node: String, _ requested: Bool, expiry: Duration = .seconds(60)) async throws {
        let key = prefix + CoordinationSnapshot.Key.drillCrash + node
        guard requested else { return try await delete(key) }
        let lease = try await grantLease(ttl: expiry)
        try await put(key, Data("crash".utf8), lease: lease)
    }

    /// `drctl restart NODE`: asks NODE's agent to restart its database in place.
    public func setRestartIntent(node: String, _ request: RestartRequest?, expiry: Duration = operatorIntentExpiry) async throws {
        let key = prefix + CoordinationSnapshot.Key.restart + node
        guard let request else { return try await delete(key) }
        let lease = try await grantLease(ttl: expiry)
        try await put(key, request.value, lease: lease)
    }

    /// `drctl reinit NODE`: asks NODE's agent to build its database anew as a standby.
    public func setReinitIntent(node: String, _ requested: Bool, expiry: Duration = operatorIntentExpiry) async throws {
        guard requested else { return try await delete(reinitKey(node)) }
        let lease = try await grantLease(ttl: expiry)
        try await put(reinitKey(node), Data("reinit".utf8), lease: lease)
    }

    /// Records a failover under its term and time (zero-padded so keys sort by term, then
    /// time: a leader promoted again under its term gets a record of its own).
    public func appendHistory(_ evidence: FailoverEvidence) async throws {
        let millis = evidence.declaredAtMillis ?? Int64(Date().timeIntervalSince1970 * 1000)
        let key = historyPrefix + String(format: "%020lld-%020lld", evidence.term, millis)
        try await put(key, try JSONEncoder().encode(evidence))
    }

    /// Records a promotion forced without coordination (no term), keyed by its time.
    public func appendForcedHistory(_ evidence: FailoverEvidence, atMillis millis: Int64) async throws {
        try await put(historyPrefix + "forced-" + String(format: "%020lld", millis), try JSONEncoder().encode(evidence))
    }

    public func history() async throws -> [FailoverEvidence] {
        let response = try await gateway.call(
            "/v3/kv/range",
            [
                "key": EtcdJSON.base64(historyPrefix), "range_end": EtcdJSON.prefixEnd(historyPrefix), "sort_order": "ASCEND", "sort_target": "KEY",
            ])
        return try (response["kvs"] as? [[String: Any]] ?? []).map { kv in
            let key = EtcdJSON.decode(kv["key"]) ?? historyPrefix
            guard let text = kv["value"] as? String, let data = Data(base64Encoded: text) else {
                throw CoordinationError.malformed(endpoint: "", path: "/v3/kv/range", detail: "\(key) is not base64")
            }
            return try decode(FailoverEvidence.self, data, key: key)
        }
    }

    var failsafeHistoryPrefix: String { prefix + "events/failsafe/" }

    /// Records a failsafe episode, keyed by when it started (older agents read no `events/`).
    public func appendFailsafeEpisode(_ episode: FailsafeEpisode) async throws {
        let key = failsafeHistoryPrefix + String(format: "%020lld", episode.startedAtMillis) + "-" + episode.leader
        try await put(key, try JSONEncoder().encode(episode))
    }

    /// The failsafe episodes, oldest first; one this version cannot read is left out.
    public func failsafeEpisodes() async throws -> [FailsafeEpisode] {
        let response = try await gateway.call(
            "/v3/kv/range",
            [
                "key": EtcdJSON.base64(failsafeHistoryPrefix), "range_end": EtcdJSON.prefixEnd(failsafeHistoryPrefix), "sort_order": "ASCEND",
                "sort_target": "KEY",
            ])
        return (response["kvs"] as? [[String: Any]] ?? []).compactMap { kv in
            (kv["value"] as? String).flatMap { Data(base64Encoded: $0) }.flatMap { try? JSONDecoder().decode(FailsafeEpisode.self, from: $0) }
        }
    }

    var hookHistoryPrefix: String { prefix + "events/hooks/" }

    /// Records a hook's run, keyed by when it started and where.
    public func appendHookRun(_ run: HookRun) async throws {
        let key = hookHistoryPrefix + String(format: "%020lld", run.startedAtMillis) + "-" + run.node + "-" + run.event.rawValue
        try await put(key, try JSONEncoder().encode(run))
    }

    /// The hooks' runs, oldest first; one this version cannot read is left out.
    public func hookRuns() async throws -> [HookRun] {
        let response = try await gateway.call(
            "/v3/kv/range",
            ["key": EtcdJSON.base64(hookHistoryPrefix), "range_end": EtcdJSON.prefixEnd(hookHistoryPrefix), "sort_order": "ASCEND", "sort_target": "KEY"])
        return (response["kvs"] as? [[String: Any]] ?? []).compactMap { kv in
            (kv["value"] as? String).flatMap { Data(base64Encoded: $0) }.flatMap { try? JSONDecoder().decode(HookRun.self, from: $0) }
        }
    }

    func put(_ key: String, _ value: Data, lease: Int64? = nil) async throws {
        var body = ["key": EtcdJSON.base64(key), "value": value.base64EncodedString()]
        if let lease { body["lease"] = String(lease) }
        _ = try await gateway.call("/v3/kv/put", body)
    }

    func get(_ key: String) async throws -> Data? {
        let response = try await gateway.call("/v3/kv/range", ["key": EtcdJSON.base64(key)])
        guard let kv = (response["kvs"] as? [[String: Any]])?.first, let text = kv["value"] as? String else { return nil }
        return Data(base64Encoded: text)
    }

    func delete(_ key: String) async throws {
        _ = try await gateway.call("/v3/kv/deleterange", ["key": EtcdJSON.base64(key)])
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data, key: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw CoordinationError.malformed(endpoint: "", path: key, detail: "not a valid \(type): \(error)")
        }
    }
}

extension EtcdCoordinator {
    /// A coordinator for `config`'s etcd, with the password read from its secret source.
    public static func forConfig(_ config: ClusterConfig, sourceAddress: String? = nil) throws -> EtcdCoordinator {
        let c = config.coordination
        var credentials: EtcdGateway.Credentials?
        if let auth = c.auth {
            credentials = .init(username: auth.username, password: try SecretReader.read(auth.password, what: "coordination password"))
        }
        let tls = c.tls.map { HTTPTLSFiles(caFile: $0.caFile, certFile: $0.certFile, keyFile: $0.keyFile) }
        // The lease must be renewable well within its TTL: a call, all its tries over the
        // endpoints together, takes at most a third of it (and 10 s, Patroni's retry_timeout),
        // so a loop's read and renewal both fit between two renewals with room to spare.
        let timeout = min(.seconds(2), c.leaseTTL / 6)
        return EtcdCoordinator(
            gateway: EtcdGateway(
                endpoints: c.endpoints, tls: tls, credentials: credentials, timeout: timeout,
                budget: min(.seconds(10), c.leaseTTL / 3), sourceAddress: sourceAddress), prefix: c.prefix)
    }
}

extension EtcdCoordinator {
    /// The prefix above this cluster's (`/drctl/` for `/drctl/shop/`), where a fleet's
    /// clusters sit side by side.
    public var fleetRoot: String {
        let parts = prefix.split(separator: "/", omittingEmptySubsequences: false).dropLast(2)
        return parts.joined(separator: "/") + "/"
    }

    /// Every cluster under `fleetRoot`, read in one range: each cluster's snapshot and its
    /// newest failover record.
    public func fleet() async throws -> [(cluster: String, snapshot: CoordinationSnapshot, last: FailoverEvidence?)] {
        let root = fleetRoot
        let response = try await gateway.call("/v3/kv/range", ["key": EtcdJSON.base64(root), "range_end": EtcdJSON.prefixEnd(root)])
        let revision = EtcdJSON.int64((response["header"] as? [String: Any])?["revision"]) ?? 0
        var byCluster: [String: [CoordinationSnapshot.Entry]] = [:]
        for kv in response["kvs"] as? [[String: Any]] ?? [] {
            guard let key = EtcdJSON.decode(kv["key"]), let name = key.dropFirst(root.count).split(separator: "/").first else { continue }
            let value = (kv["value"] as? String).flatMap { Data(base64Encoded: $0) } ?? Data()
            byCluster[String(name), default: []].append(
                CoordinationSnapshot.Entry(
                    key: key, value: value, createRevision: EtcdJSON.int64(kv["create_revision"]) ?? 0, lease: EtcdJSON.int64(kv["lease"]) ?? 0,
                    modRevision: EtcdJSON.int64(kv["mod_revision"]) ?? 0))
        }
        return byCluster.sorted { $0.key < $1.key }.compactMap { name, entries in
            let prefix = root + name + "/"
            // A cluster is a prefix with a leader key or member records; other keys are not ours.
            guard entries.contains(where: { $0.key == prefix + CoordinationSnapshot.Key.leader || $0.key.hasPrefix(prefix + CoordinationSnapshot.Key.members) })
            else { return nil }
            let last = entries.filter { $0.key.hasPrefix(prefix + "history/") }.max { $0.key < $1.key }
                .flatMap { try? JSONDecoder().decode(FailoverEvidence.self, from: $0.value) }
            return (name, CoordinationSnapshot.decode(prefix: prefix, revision: revision, entries: entries), last)
        }
    }
}
