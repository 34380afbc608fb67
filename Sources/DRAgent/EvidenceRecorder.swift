import DRCore
import Foundation

/// Collects the timestamps of one failover on the promoting agent's monotonic clock.
struct EvidenceRecorder {
    let declaredAt: AgentInstant
    let previousPrimary: String?
    private(set) var events: [FailoverEvidence.Event] = []

    /// Wall clock at the declaration, for same-host comparisons only.
    let declaredAtMillis: Int64

    init(declaredAt: AgentInstant, now: AgentInstant, previousPrimary: String?) {
        self.declaredAt = declaredAt
        declaredAtMillis = Int64(Date().timeIntervalSince1970 * 1000) - (now - declaredAt).milliseconds
        self.previousPrimary = previousPrimary
        events = [FailoverEvidence.Event(name: "declared failed", at: 0)]
    }

    mutating func mark(_ name: String, at instant: AgentInstant) {
        events.append(FailoverEvidence.Event(name: name, at: (instant - declaredAt).seconds))
    }

    func evidence(cluster: String, term: Int64, promoted: String, lostBytes: UInt64?, lostSeconds: Double?, reason: String) -> FailoverEvidence {
        var evidence = FailoverEvidence(
            cluster: cluster, term: term, promoted: promoted, previousPrimary: previousPrimary,
            finishedAt: ISO8601DateFormatter().string(from: Date()), events: events,
            rtoSeconds: events.last?.at ?? 0, dataLostBytes: lostBytes, dataLostSeconds: lostSeconds, reason: reason)
        evidence.declaredAtMillis = declaredAtMillis
        return evidence
    }
}
