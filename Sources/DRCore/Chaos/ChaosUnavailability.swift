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

    /// The longest stretch without an acknowledged write, reported against the RTO with the
    /// faults that explain it. Reported, not judged yet: which overlapping faults, operator
    /// states and cooldowns excuse a stretch longer than the RTO is the open half of the
    /// issue, and a verdict without it would fail campaigns for faults that must stop writes
    /// (etcd lost without failsafe, both nodes down).
    public static func longestWriteGap(acks: [Ack], steps: [ChaosPlan.Step], rto: Double) -> Property {
        let name = "longest stretch without an acknowledged write"
        guard let longest = writeGaps(acks: acks, steps: steps, over: 0).first else {
            return Property(name: name, passed: true, detail: "fewer than two acknowledged writes")
        }
        let faults = longest.faults.map { "\($0.fault.rawValue) \($0.node) at \(String(format: "%.1f", $0.at)) s" }.joined(separator: ", ")
        let beyond = writeGaps(acks: acks, steps: steps, over: rto).count
        return Property(
            name: name, passed: true,
            detail: String(format: "%.2f s, from %.1f s to %.1f s (RTO %.0f s; %d stretch(es) beyond it)", longest.length, longest.from, longest.to, rto, beyond)
                + (faults.isEmpty ? "; no fault ran then" : "; during: " + faults))
    }
}
