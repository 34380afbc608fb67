import DRCore
import Foundation

/// Collects the timestamps of one failover on the promoting agent's monotonic clock,
/// counted from the first sign of failure this agent knows of.
struct EvidenceRecorder {
    let declaredAt: AgentInstant
    /// The earliest failed check known: the old primary's own (from its member record) or
    /// this standby's WAL receiver losing its upstream; the origin of every event.
    let origin: AgentInstant
    let previousPrimary: String?
    private(set) var events: [FailoverEvidence.Event] = []

    /// Wall clock at the declaration, for same-host comparisons only.
    let declaredAtMillis: Int64

    /// - Parameter start: the first event when it precedes the declaration: the first failed
    ///   check, or in a switchover the old primary stopping.
    init(
        declaredAt: AgentInstant, start: (name: String, at: AgentInstant)?, declaredName: String = "declared failed",
        now: AgentInstant, previousPrimary: String?
    ) {
        self.declaredAt = declaredAt
        origin = min(start?.at ?? declaredAt, declaredAt)
        declaredAtMillis = Int64(Date().timeIntervalSince1970 * 1000) - (now - declaredAt).milliseconds
        self.previousPrimary = previousPrimary
        if let start, origin < declaredAt { events.append(FailoverEvidence.Event(name: start.name, at: 0)) }
        mark(declaredName, at: declaredAt)
    }

    mutating func mark(_ name: String, at instant: AgentInstant) {
        events.append(FailoverEvidence.Event(name: name, at: (instant - origin).seconds))
    }

    func evidence(cluster: String, term: Int64, promoted: String, lostBytes: UInt64?, lostSeconds: Double?, reason: String) -> FailoverEvidence {
        var evidence = FailoverEvidence(
            cluster: cluster, term: term, promoted: promoted, previousPrimary: previousPrimary,
            finishedAt: UTCTime.iso8601(Date()), events: events,
            rtoSeconds: events.last?.at ?? 0, dataLostBytes: lostBytes, dataLostSeconds: lostSeconds, reason: reason)
        evidence.declaredAtMillis = declaredAtMillis
        return evidence
    }
}
