/// The primary's WAL position over time, on its agent's own monotonic clock: how long ago
/// the primary wrote the WAL a standby has not flushed yet — the window of commits a
/// failover to that standby would lose — measured without any other machine's clock
/// (safety invariant 4). PostgreSQL's `reply_time` is the standby's clock, and `flush_lag`
/// stops growing when the standby stops answering; neither is used.
public struct WALHistory: Sendable, Equatable {
    public struct Sample: Sendable, Equatable {
        public var at: AgentInstant
        public var lsn: LSN
    }

    public private(set) var samples: [Sample] = []
    /// How far back samples are kept: a standby further behind is of unknown (so too
    /// large) loss. Keep it above the RPO (a reload that raises the RPO raises it; the
    /// samples kept so far stay).
    public var span: Duration

    public init(span: Duration) { self.span = span }

    /// The span an agent keeps for an RPO: twice it, and at least a minute.
    public static func span(rpo: Duration) -> Duration { max(rpo * 2, .seconds(60)) }

    /// Adds the primary's current position; positions never go back within one timeline,
    /// so a lower one (a new timeline after a promotion) starts the history again.
    public mutating func record(_ lsn: LSN, at now: AgentInstant) {
        if let last = samples.last, lsn < last.lsn { samples.removeAll() }
        samples.append(Sample(at: now, lsn: lsn))
        // Keep one sample at or before the span's start, so windows up to the span are known.
        while samples.count > 2, now - samples[1].at >= span { samples.removeFirst() }
    }

    /// An upper bound on how long ago the primary first wrote WAL past `flushed`: zero when
    /// the standby has everything the primary had at the last sample; nil when that WAL is
    /// older than the history (unknown, which the RPO gate counts as beyond the RPO).
    public func lossWindow(flushed: LSN, now: AgentInstant) -> Duration? {
        guard let latest = samples.last else { return nil }
        if flushed >= latest.lsn { return .zero }
        // Everything past `flushed` was written after the last sample that did not yet have it.
        guard let before = samples.last(where: { $0.lsn <= flushed }) else { return nil }
        return now - before.at
    }
}
