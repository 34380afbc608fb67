/// How long this node's database has been failing, counted check by check: the streak the
/// failure threshold (`FailoverPolicy.failuresInARow`) and the failover evidence ("first
/// failed check") read. Kept by the agent, one `record` per health check.
public struct HealthStreak: Sendable, Equatable {
    /// An instant on both clocks: the agent's (for durations) and the wall (for people).
    public struct Since: Sendable, Equatable {
        public var at: AgentInstant
        public var millis: Int64
        public init(at: AgentInstant, millis: Int64) {
            self.at = at
            self.millis = millis
        }
    }

    /// Consecutive failed checks; zero after any success.
    public private(set) var failedChecks = 0
    /// When the first of them failed; nil while healthy.
    public private(set) var failingSince: Since?
    /// A standby whose WAL receiver is not streaming: since when (nil while it streams, and
    /// for anything but a standby).
    public private(set) var upstreamLostSince: AgentInstant?

    public init() {}

    /// One health check: `healthy` (a primary or a standby answered), and for a standby
    /// whether its WAL receiver streams (nil for anything else).
    public mutating func record(healthy: Bool, streaming: Bool?, at now: AgentInstant, wallMillis: Int64) {
        failedChecks = healthy ? 0 : failedChecks + 1
        if healthy {
            failingSince = nil
        } else if failingSince == nil {
            failingSince = Since(at: now, millis: wallMillis)
        }
        if streaming == false {
            if upstreamLostSince == nil { upstreamLostSince = now }
        } else {
            upstreamLostSince = nil
        }
    }
}
