/// The answers of the agent's Patroni-compatible health endpoints, as a pure function of
/// the node's last snapshot: load balancers route on the status code alone.
public enum HealthEndpoints {
    /// The paths served, each with what a 200 means (Patroni's names, so HAProxy and
    /// load-balancer templates written for Patroni work unchanged).
    public static let paths: [(path: String, meaning: String)] = [
        ("/primary", "this node is the primary and holds an unexpired leader lease"),
        ("/master", "same as /primary (Patroni's older name)"),
        ("/read-write", "same as /primary"),
        ("/leader", "same as /primary"),
        ("/replica", "a streaming standby within the lag limit (?lag=16MB), not tagged noloadbalance; ?tag_NAME=true|false filters on a tag"),
        ("/read-only", "the primary, or a replica as for /replica"),
        ("/sync", "synchronous mode: a replica the leader recorded as synchronous (also /synchronous)"),
        ("/synchronous", "same as /sync"),
        ("/async", "a replica not recorded as synchronous (also /asynchronous)"),
        ("/asynchronous", "same as /async"),
        ("/health", "the agent's loop is alive and its database runs"),
        ("/liveness", "the agent's loop is alive (whatever its database does)"),
        ("/readiness", "the primary holding its lease, or a streaming standby within the lag limit"),
        ("/status", "always 200 while the loop is alive; the node's view as JSON"),
    ]

    /// The methods answered: GET, HEAD, and OPTIONS (HAProxy's `option httpchk OPTIONS /primary`).
    public static let methods: Set<String> = ["GET", "HEAD", "OPTIONS"]

    /// The status code for `path`, or nil when the path is not an endpoint (404).
    /// - Parameters:
    ///   - query: the request's query parameters (`lag`, `tag_NAME`).
    ///   - now: the agent's clock; a snapshot older than `staleAfter` means a stalled loop.
    ///   - defaultLagLimit: bytes of replication lag a replica may have without `?lag=`.
    public static func status(
        path: String, query: [String: String], snapshot: NodeSnapshot?, now: AgentInstant,
        staleAfter: Duration, defaultLagLimit: UInt64
    ) -> Int? {
        let normalized = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        guard paths.contains(where: { $0.path == normalized }) else { return nil }
        guard let snapshot, now - snapshot.tickedAt <= staleAfter else { return 503 }
        let isPrimary = snapshot.state == "primary" && snapshot.holdsLease
        let limit = query["lag"].flatMap(parseSize) ?? defaultLagLimit
        let tagsMatch = query.allSatisfy { key, value in
            guard key.hasPrefix("tag_") else { return true }
            let tagged = snapshot.tags.contains(String(key.dropFirst(4)))
            return ["true", "1", "yes", "on"].contains(value.lowercased()) ? tagged : !tagged
        }
        let isReplica =
            snapshot.state == "standby" && snapshot.streaming && !snapshot.noloadbalance
            && (snapshot.lagBytes.map { $0 <= limit } ?? false) && tagsMatch
        let ok: Bool =
            switch normalized {
            case "/primary", "/master", "/read-write", "/leader": isPrimary
            case "/replica": isReplica
            case "/read-only": isPrimary || isReplica
            case "/sync", "/synchronous": isReplica && snapshot.synchronous == true
            case "/async", "/asynchronous": isReplica && snapshot.synchronous != true
            case "/health": snapshot.state == "primary" || snapshot.state == "standby"
            case "/readiness": isPrimary || (snapshot.state == "standby" && snapshot.streaming && (snapshot.lagBytes.map { $0 <= limit } ?? false))
            default: true  // /liveness, /status: the loop is alive
            }
        return ok ? 200 : 503
    }

    /// `1048576`, `512kB`, `16MB`, `1GB` (powers of 1024, as PostgreSQL writes sizes).
    public static func parseSize(_ text: String) -> UInt64? {
        let units: [(String, UInt64)] = [("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            return UInt64(text.dropLast(suffix.count).trimming(" ")).map { $0 * factor }
        }
        return UInt64(text)
    }
}
