import Foundation

/// The campaign's verdict from what the clients saw, not from what the agents recorded:
/// it trusts no bookkeeping of drctl's own.
public struct ChaosChecker: Sendable {
    /// One write a client saw acknowledged.
    public struct Ack: Sendable, Codable, Equatable {
        public var id: Int64
        public var node: String
        /// The server's timeline when it committed (from its WAL file name).
        public var timeline: Int
        /// Seconds from the campaign's start: the INSERT was sent, its commit came back.
        public var sentAt: Double
        public var ackedAt: Double
        /// The server's WAL position when it ran the INSERT (its commit follows it).
        public var lsn: LSN?

        public init(id: Int64, node: String, timeline: Int, sentAt: Double, ackedAt: Double, lsn: LSN? = nil) {
            self.id = id
            self.node = node
            self.timeline = timeline
            self.sentAt = sentAt
            self.ackedAt = ackedAt
            self.lsn = lsn
        }
    }

    public struct Property: Sendable, Codable, Equatable {
        public var name: String
        public var passed: Bool
        public var detail: String

        public init(name: String, passed: Bool, detail: String) {
            self.name = name
            self.passed = passed
            self.detail = detail
        }
    }

    public var synchronous: Bool
    /// Seconds of acknowledged writes a failover may lose in asynchronous mode.
    public var rpo: Double
    /// Seconds after the last heal within which the cluster must be healthy again.
    public var recoveryBudget: Double

    public init(synchronous: Bool, rpo: Double, recoveryBudget: Double) {
        self.synchronous = synchronous
        self.rpo = rpo
        self.recoveryBudget = recoveryBudget
    }

    /// How the cluster settled after the last heal.
    public enum Settled: Sendable, Equatable {
        case healthy(at: Double)
        /// Waiting for an operator as documented (synchronous mode refusing a promotion that
        /// could lose commits, a fenced node awaiting `drctl rejoin`), with why.
        case operatorState(at: Double, why: String)
        case never
    }

    /// - Parameters:
    ///   - survivors: the ids the final primary holds (nil: no primary answered at the end).
    ///   - lastHeal: when the last fault was healed.
    public func check(acks: [Ack], survivors: Set<Int64>?, lastHeal: Double, settled: Settled) -> [Property] {
        var loss = loss(acks, survivors: survivors)
        if survivors == nil, case .operatorState = settled {
            loss.detail = "not judged: no primary at the end, the cluster waits for an operator (the writes are on a stopped node)"
            loss.passed = true
        }
        return [splitBrain(acks), loss, recovery(lastHeal: lastHeal, settled: settled)]
    }

    /// Never two writable primaries: once a server on a newer timeline acknowledged a write,
    /// no server on an older timeline may accept one. Judged conservatively — the older
    /// write must have been *sent* after the newer one *came back* — so client latency never
    /// makes a violation.
    public func splitBrain(_ acks: [Ack]) -> Property {
        var newest: Ack?
        var overlaps: [String] = []
        for ack in acks.sorted(by: { $0.ackedAt < $1.ackedAt }) {
            if let seen = newest, ack.timeline < seen.timeline, ack.sentAt > seen.ackedAt {
                overlaps.append(
                    "\(ack.node) (timeline \(ack.timeline)) acknowledged write \(ack.id) sent at \(Self.seconds(ack.sentAt)), "
                        + "after \(seen.node) (timeline \(seen.timeline)) acknowledged one at \(Self.seconds(seen.ackedAt))")
            }
            if ack.timeline > newest?.timeline ?? Int.min { newest = ack }
        }
        return Property(
            name: "no split brain", passed: overlaps.isEmpty,
            detail: overlaps.isEmpty
                ? "\(acks.count) acknowledged writes, never an older timeline after a newer one"
                : "\(overlaps.count) writes on a deposed primary: " + overlaps.prefix(5).joined(separator: "; "))
    }

    /// Synchronous: every acknowledged write survives. Asynchronous: each loss belongs to
    /// the timeline a failover abandoned, and spans at most the RPO.
    public func loss(_ acks: [Ack], survivors: Set<Int64>?) -> Property {
        let name = synchronous ? "no acknowledged write lost" : "losses within the RPO"
        guard let survivors else { return Property(name: name, passed: false, detail: "no primary answered at the end: nothing to compare") }
        let lost = acks.filter { !survivors.contains($0.id) }
        if lost.isEmpty { return Property(name: name, passed: true, detail: "all \(acks.count) acknowledged writes are on the final primary") }
        if synchronous {
            return Property(name: name, passed: false, detail: "\(lost.count) acknowledged writes lost, first \(lost[0].id) on \(lost[0].node) at \(lost[0].ackedAt) s")
        }
        var windows: [String] = []
        var beyond = false
        for timeline in Set(lost.map(\.timeline)).sorted() {
            let onTimeline = acks.filter { $0.timeline == timeline }.sorted { $0.ackedAt < $1.ackedAt }
            guard let firstLost = onTimeline.firstIndex(where: { !survivors.contains($0.id) }),
                let lastLost = onTimeline.lastIndex(where: { !survivors.contains($0.id) })
            else { continue }
            let from = onTimeline[..<firstLost].last { survivors.contains($0.id) }?.ackedAt ?? onTimeline[firstLost].ackedAt
            let window = onTimeline[lastLost].ackedAt - from
            beyond = beyond || window > rpo
            windows.append(String(format: "timeline %d: %d lost over %.2f s", timeline, onTimeline.filter { !survivors.contains($0.id) }.count, window))
        }
        return Property(name: name, passed: !beyond, detail: windows.joined(separator: "; ") + String(format: " (RPO %.1f s)", rpo))
    }

    /// `drctl history` agrees with the clients: every timeline a client wrote on after the
    /// first was begun by a promotion of the node that acknowledged it, and each such
    /// promotion is in the history (more entries are fine: a promoted node may have lost
    /// its primacy before any client reached it).
    /// - Parameter promotions: the `promoted` node of each history entry.
    public func history(_ acks: [Ack], promotions: [String]) -> Property {
        let name = "history agrees with the clients"
        guard let first = acks.map(\.timeline).min() else { return Property(name: name, passed: true, detail: "no writes to compare") }
        var seen: [String: Set<Int>] = [:]
        for ack in acks where ack.timeline > first { seen[ack.node, default: []].insert(ack.timeline) }
        var missing: [String] = []
        for (node, timelines) in seen.sorted(by: { $0.key < $1.key }) {
            let recorded = promotions.filter { $0 == node }.count
            if recorded < timelines.count {
                missing.append(
                    "\(node) acknowledged writes on \(timelines.count) new timeline(s) (\(timelines.sorted().map(String.init).joined(separator: ", "))) but history records \(recorded) promotion(s) of it"
                )
            }
        }
        let promotionsSeen = seen.values.map(\.count).reduce(0, +)
        return Property(
            name: name, passed: missing.isEmpty,
            detail: missing.isEmpty
                ? "\(promotions.count) promotion(s) in the history, \(promotionsSeen) seen by the clients"
                : missing.joined(separator: "; "))
    }

    static func seconds(_ value: Double) -> String { String(format: "%.3f s", value) }

    public func recovery(lastHeal: Double, settled: Settled) -> Property {
        let name = "recovers after the faults"
        switch settled {
        case .never:
            return Property(name: name, passed: false, detail: String(format: "neither healthy nor waiting for an operator within %.0f s of the last heal", recoveryBudget))
        case .healthy(let at):
            let took = max(0, at - lastHeal)
            return Property(name: name, passed: took <= recoveryBudget, detail: String(format: "healthy %.1f s after the last heal (budget %.0f s)", took, recoveryBudget))
        case let .operatorState(at, why):
            let took = max(0, at - lastHeal)
            return Property(
                name: name, passed: took <= recoveryBudget,
                detail: String(format: "waiting for an operator %.1f s after the last heal (budget %.0f s): ", took, recoveryBudget) + why)
        }
    }
}
