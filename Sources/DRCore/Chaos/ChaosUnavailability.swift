/// How long the clients went without any acknowledged write, from what they saw: the
/// availability half of a campaign's verdict (issue 26). A campaign that keeps every safety
/// property but leaves a healthy standby idle for many seconds has still failed its users.
extension ChaosChecker {
    /// One stretch without any acknowledged write: when it began and ended (seconds from the
    /// campaign's start) and the faults that ran during it.
    public struct WriteGap: Sendable, Equatable {
        public var from: Double
        public var to: Double
        public var faults: [ChaosPlan.Step]
        public var length: Double { to - from }
    }

    /// What the campaign read from etcd at one moment while the faults ran: whether writes
    /// could be expected then (maintenance, etcd gone and an operator's hold stop them by design).
    public struct ClusterSample: Sendable, Codable, Equatable {
        /// Seconds from the campaign's start (when the read was sent).
        public var at: Double
        /// etcd answered the campaign's own read.
        public var readable: Bool
        public var paused: Bool
        public var leader: String?
        /// Members waiting for an operator, each as `name: why` (a cooldown is one).
        public var holds: [String]

        public init(at: Double, readable: Bool, paused: Bool = false, leader: String? = nil, holds: [String] = []) {
            self.at = at
            self.readable = readable
            self.paused = paused
            self.leader = leader
            self.holds = holds
        }

        /// Why no automatic failover was to be expected at this moment, if so.
        var excuse: String? {
            if !readable { return "etcd unreadable" }
            if paused { return "paused for maintenance" }
            if leader == nil, let hold = holds.first { return "waiting for an operator (\(hold))" }
            return nil
        }
    }

    /// A stretch of time in which no writes were to be expected, and why.
    struct Excused: Equatable {
        var from: Double
        var to: Double
        var why: String
    }

    /// Faults that take their node out as a server or as a candidate while they last.
    static let nodeFaults: Set<ChaosFault> = [
        .killNode, .killPostmaster, .freezePostgres, .freezePostmaster, .freezeAgent, .isolateRegion, .cutEtcd, .cutReplication,
        .loseEtcdAnswers, .restartAgent,
    ]

    /// Every stretch longer than `over` seconds between two consecutive acknowledgements (of
    /// any client), longest first, each with the faults that overlapped it.
    public static func writeGaps(acks: [Ack], steps: [ChaosPlan.Step], over: Double) -> [WriteGap] {
        let times = acks.map(\.ackedAt).sorted()
        return zip(times, times.dropFirst()).compactMap { from, to -> WriteGap? in
            guard to - from > over else { return nil }
            let faults = steps.filter { $0.at <= to && $0.at + max($0.healAfter, 0) >= from }
            return WriteGap(from: from, to: to, faults: faults)
        }.sorted { $0.length > $1.length }
    }

    /// The write gaps judged against the RTO. A gap fails when some part of it that nothing
    /// excuses lasts longer than the RTO. Excused: every database node under a fault at once
    /// (nothing could serve), and what the campaign read from etcd — maintenance, etcd
    /// unreadable, or the key free while a member waits for an operator (the cooldown, the
    /// RPO gate, a fenced node awaiting a rejoin). A failover needs its RTO after the excuse
    /// ends, so time is charged from there.
    ///
    /// - Parameters:
    ///   - nodes: the database nodes of the campaign.
    ///   - samples: the campaign's reads of etcd while the faults ran, in order.
    public static func judgeWriteGaps(acks: [Ack], steps: [ChaosPlan.Step], samples: [ClusterSample], nodes: [String], rto: Double) -> Property {
        let name = "no stretch without writes beyond the RTO, unless explained"
        let gaps = writeGaps(acks: acks, steps: steps, over: 0)
        guard let longest = gaps.first else { return Property(name: name, passed: true, detail: "fewer than two acknowledged writes") }
        let excused = excusedStretches(steps: steps, samples: samples, nodes: nodes)
        var explained: [String] = []
        var unexplained: [String] = []
        for gap in gaps where gap.length > rto {
            let covering = excused.filter { $0.from < gap.to && $0.to > gap.from }
            let charged = longestUncovered(from: gap.from, to: gap.to, by: covering)
            let what = String(format: "%.1f s from %.1f s", gap.length, gap.from)
            let reasons = Set(covering.map(\.why)).sorted().joined(separator: "; ")
            if charged.length > rto {
                unexplained.append(
                    what + String(format: ": %.1f s of it (%.1f–%.1f s) unexplained", charged.length, charged.from, charged.to)
                        + (gap.faults.isEmpty ? "" : "; faults: " + describe(gap.faults)) + (reasons.isEmpty ? "" : "; explained only: " + reasons))
            } else {
                explained.append(what + " (" + reasons + ")")
            }
        }
        let summary =
            String(format: "longest %.2f s, from %.1f s to %.1f s (RTO %.0f s)", longest.length, longest.from, longest.to, rto)
            + (longest.faults.isEmpty ? "; no fault ran then" : "; during: " + describe(longest.faults))
        if !unexplained.isEmpty { return Property(name: name, passed: false, detail: summary + "; beyond the RTO: " + unexplained.joined(separator: " | ")) }
        return Property(name: name, passed: true, detail: summary + (explained.isEmpty ? "" : "; beyond the RTO but explained: " + explained.joined(separator: " | ")))
    }

    static func describe(_ faults: [ChaosPlan.Step]) -> String {
        faults.map { "\($0.fault.rawValue) \($0.node) at \(String(format: "%.1f", $0.at)) s" }.joined(separator: ", ")
    }

    /// The stretches in which no writes were to be expected: every node faulted at once, and
    /// each sample's excuse until the next sample.
    static func excusedStretches(steps: [ChaosPlan.Step], samples: [ClusterSample], nodes: [String]) -> [Excused] {
        var excused: [Excused] = []
        var everyNode: [(Double, Double)]? = nil
        for node in nodes {
            let own = union(steps.filter { $0.node == node && nodeFaults.contains($0.fault) }.map { ($0.at, $0.at + $0.healAfter) })
            everyNode = everyNode.map { intersect($0, own) } ?? own
        }
        for (from, to) in everyNode ?? [] where to > from { excused.append(Excused(from: from, to: to, why: "every database node under a fault")) }
        for (index, sample) in samples.enumerated() {
            guard let why = sample.excuse else { continue }
            let next = index + 1 < samples.count ? samples[index + 1].at : sample.at
            excused.append(Excused(from: sample.at, to: next, why: why))
        }
        return excused
    }

    /// The longest part of `from...to` that no stretch of `covering` overlaps.
    static func longestUncovered(from: Double, to: Double, by covering: [Excused]) -> (from: Double, to: Double, length: Double) {
        var best = (from: from, to: from, length: 0.0)
        var cursor = from
        for stretch in union(covering.map { ($0.from, $0.to) }) + [(to, to)] {
            let end = min(max(stretch.0, cursor), to)
            if end - cursor > best.length { best = (cursor, end, end - cursor) }
            cursor = max(cursor, min(stretch.1, to))
        }
        return best
    }

    /// Sorted, merged intervals.
    static func union(_ intervals: [(Double, Double)]) -> [(Double, Double)] {
        var merged: [(Double, Double)] = []
        for interval in intervals.sorted(by: { $0.0 < $1.0 }) {
            if let last = merged.last, interval.0 <= last.1 {
                merged[merged.count - 1].1 = max(last.1, interval.1)
            } else {
                merged.append(interval)
            }
        }
        return merged
    }

    /// Where two sets of sorted, merged intervals overlap.
    static func intersect(_ a: [(Double, Double)], _ b: [(Double, Double)]) -> [(Double, Double)] {
        a.flatMap { x in b.compactMap { y in max(x.0, y.0) < min(x.1, y.1) ? (max(x.0, y.0), min(x.1, y.1)) : nil } }
    }
}
