/// The answers of the agent's Patroni-compatible health endpoints, as a pure function of
/// the node's last snapshot: load balancers route on the status code alone.
public enum HealthEndpoints {
    /// The paths served, each with what a 200 means.
    public static let paths: [(path: String, meaning: String)] = [
        ("/primary", "this node is the primary and holds an unexpired leader lease"),
        ("/read-write", "same as /primary"),
        ("/leader", "same as /primary"),
        ("/replica", "a streaming standby within the lag limit (?lag=16MB), not tagged noloadbalance"),
        ("/read-only", "the primary, or a replica as for /replica"),
        ("/health", "the agent's loop is alive and its database runs"),
        ("/status", "always 200 while the loop is alive; the node's view as JSON"),
    ]

    /// The status code for `path`, or nil when the path is not an endpoint (404).
    /// - Parameters:
    ///   - query: the request's query parameters (`lag`).
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
        let isReplica =
            snapshot.state == "standby" && snapshot.streaming && !snapshot.noloadbalance
            && (snapshot.lagBytes.map { $0 <= limit } ?? false)
        let ok: Bool =
            switch normalized {
            case "/primary", "/read-write", "/leader": isPrimary
            case "/replica": isReplica
            case "/read-only": isPrimary || isReplica
            case "/health": snapshot.state == "primary" || snapshot.state == "standby"
            default: true
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
