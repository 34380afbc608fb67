/// `drctl promote NODE --force`, decided: the way out when coordination is gone (etcd
/// unreachable, the region cut off). Pure: from what the operator's host sees of every
/// node, whether the promotion may go ahead, what the operator is told before confirming,
/// the marker that exempts the promoted node from the agents' fencing, and the evidence the
/// history keeps. The steps on the database are `ForcedPromotion` (DRPostgres); the CLI
/// runs them in order. docs/design.md, "Forced promotion".
public struct ForcedPromotionPlan: Sendable, Equatable {
    public var target: String
    /// What the target had received, and on which timeline, when it was looked at.
    public var receivedLSN: LSN?
    public var timeline: Int?
    /// Nodes this host cannot see as standbys (down, cut off, or unknown): any of them may
    /// still take writes from clients that reach it.
    public var unreachable: [String]

    public init(target: String, receivedLSN: LSN?, timeline: Int?, unreachable: [String]) {
        self.target = target
        self.receivedLSN = receivedLSN
        self.timeline = timeline
        self.unreachable = unreachable
    }

    /// Why a forced promotion is refused with nothing changed.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        /// The target is not a standby this host reaches.
        case notAReachableStandby(node: String)
        /// Another node accepts writes: promoting would make two primaries.
        case anotherPrimary(target: String, writable: String)

        public var description: String {
            switch self {
            case .notAReachableStandby(let node): "refused: \(node) is not a reachable standby"
            case let .anotherPrimary(target, writable):
                "refused: \(writable) still accepts writes; promoting \(target) would make two primaries (fence \(writable) first)"
            }
        }
    }

    /// The plan for promoting `target`, or why not: only a standby this host reaches, and
    /// only while no node this host reaches accepts writes.
    public static func make(target: String, observations: [NodeObservation]) -> Result<ForcedPromotionPlan, Refusal> {
        guard case .standby(let state)? = observations.first(where: { $0.node == target })?.result else {
            return .failure(.notAReachableStandby(node: target))
        }
        if let writable = observations.first(where: { if case .primary = $0.result { true } else { false } }) {
            return .failure(.anotherPrimary(target: target, writable: writable.node))
        }
        let unreachable = observations.filter { if case .standby = $0.result { false } else { true } }.map(\.node).filter { $0 != target }
        return .success(ForcedPromotionPlan(target: target, receivedLSN: state.receiveLSN, timeline: state.timeline, unreachable: unreachable.sorted()))
    }

    /// What the operator reads before confirming.
    public var summary: String {
        """
        FORCED promotion of \(target) (received up to \(receivedLSN.map { "\($0)" } ?? "unknown"), timeline \(timeline.map(String.init) ?? "?")):
          no leader lock, no RPO gate; nodes not reachable from here: \(unreachable.isEmpty ? "none" : unreachable.joined(separator: ", "))
          a node you cannot reach may still take writes from clients that reach it: fence it before clients return
        """
    }

    /// The marker the target carries (`PrimaryState.forcedPromotionSetting`) before it is
    /// promoted: an agent fences a writable node without a lease while etcd is down unless
    /// the marker says an operator made it so.
    public static func marker(by who: String, atMillis millis: Int64) -> String { "by \(who) at \(millis)" }

    /// The history's record of a forced promotion that made the target writable
    /// `writableAfter` after it was issued (term 0: no leader key was involved).
    public func evidence(cluster: String, by who: String, reason: String, atMillis millis: Int64, finishedAt: String, writableAfter: Double) -> FailoverEvidence {
        var record = FailoverEvidence(
            cluster: cluster, term: 0, promoted: target, previousPrimary: nil, finishedAt: finishedAt,
            events: [.init(name: "forced promotion issued", at: 0), .init(name: "writable", at: writableAfter)], rtoSeconds: writableAfter,
            dataLostBytes: nil, dataLostSeconds: nil, reason: "forced promotion by \(who) without coordination: \(reason)")
        record.declaredAtMillis = millis
        return record
    }
}
