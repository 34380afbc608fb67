/// What one failover leaves behind, measured by the agent that promoted: its timeline on
/// its own monotonic clock (seconds from the first failed check it knows of, else from
/// "declared failed") and the data lost.
public struct FailoverEvidence: Sendable, Equatable, Codable {
    public struct Event: Sendable, Equatable, Codable {
        public var name: String
        /// Seconds after the first event (the first failed check when known).
        public var at: Double

        public init(name: String, at: Double) {
            self.name = name
            self.at = at
        }
    }

    public var cluster: String
    public var term: Int64
    public var promoted: String
    public var previousPrimary: String?
    /// Wall-clock time of the promotion on the promoting agent (ISO 8601), for people.
    public var finishedAt: String
    /// Wall-clock milliseconds since the epoch when the failure was declared, on the
    /// promoting agent's host. Only comparable with clocks of the same host (the lab bench).
    public var declaredAtMillis: Int64? = nil
    public var events: [Event]
    /// From the first failed check (else the failure being declared) to the new primary
    /// accepting writes.
    public var rtoSeconds: Double
    public var dataLostBytes: UInt64?
    public var dataLostSeconds: Double?
    public var reason: String

    public init(
        cluster: String, term: Int64, promoted: String, previousPrimary: String?, finishedAt: String, events: [Event],
        rtoSeconds: Double, dataLostBytes: UInt64?, dataLostSeconds: Double?, reason: String
    ) {
        self.cluster = cluster
        self.term = term
        self.promoted = promoted
        self.previousPrimary = previousPrimary
        self.finishedAt = finishedAt
        self.events = events
        self.rtoSeconds = rtoSeconds
        self.dataLostBytes = dataLostBytes
        self.dataLostSeconds = dataLostSeconds
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case cluster, term, promoted, events, reason
        case previousPrimary = "previous_primary", finishedAt = "finished_at", rtoSeconds = "rto_seconds", declaredAtMillis = "declared_at_ms"
        case dataLostBytes = "data_lost_bytes", dataLostSeconds = "data_lost_seconds"
    }
}
