import DRCore
import Testing

/// How a drill finds the outage in a client's acknowledged writes (issue 28): the first gap
/// well beyond the client's pace that ends after the fault was asked for — not the writes the
/// still-running primary acknowledged in the moments before the fault struck.
@Suite struct AcknowledgedWritesTests {
    static let start = ContinuousClock.now

    /// Writes at these offsets (ms) from `start`, on the given servers.
    static func writes(_ entries: [(Int, String)]) -> AcknowledgedWrites {
        let acks = AcknowledgedWrites()
        for (index, (ms, server)) in entries.enumerated() { acks.add(Int64(index), server: server, at: start + .milliseconds(ms)) }
        return acks
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var writes: [(Int, String)]
        var faultAt: Int
        /// (last before, resumed) offsets in ms; nil: no outage yet.
        var expected: (Int, Int)?
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(
            name: "the old primary acknowledges a few writes after the fault is asked for",
            writes: [(0, "a"), (10, "a"), (20, "a"), (30, "a"), (40, "a"), (900, "b"), (910, "b")], faultAt: 25, expected: (40, 900)),
        Row(name: "the old primary comes back itself", writes: [(0, "a"), (10, "a"), (20, "a"), (3700, "a"), (3710, "a")], faultAt: 15, expected: (20, 3700)),
        Row(name: "writes have not resumed yet", writes: [(0, "a"), (10, "a"), (20, "a")], faultAt: 15, expected: nil),
        Row(name: "a gap before the fault is not the drill's outage", writes: [(0, "a"), (500, "a"), (510, "a"), (520, "a")], faultAt: 505, expected: nil),
        Row(name: "jitter below the threshold is no outage", writes: [(0, "a"), (30, "a"), (60, "a"), (95, "a")], faultAt: 10, expected: nil),
    ]

    @Test(arguments: rows)
    func findsTheOutageAfterTheFault(_ row: Row) {
        let acks = Self.writes(row.writes)
        let found = acks.outage(endingAfter: Self.start + .milliseconds(row.faultAt), threshold: .milliseconds(50))
        let offsets = found.map { (($0.lastBefore.at - Self.start).milliseconds, ($0.resumed.at - Self.start).milliseconds) }
        #expect(offsets?.0 == row.expected?.0 && offsets?.1 == row.expected?.1, "\(String(describing: offsets))")
    }

    @Test func theClientsPaceIsTheMedianGapBeforeTheFault() {
        let acks = Self.writes([(0, "a"), (10, "a"), (20, "a"), (100, "a"), (110, "a"), (5000, "b")])
        #expect(acks.typicalGap(before: Self.start + .milliseconds(200)) == .milliseconds(10))
        #expect(Self.writes([]).typicalGap(before: Self.start) == nil)
    }
}

extension Duration {
    fileprivate var milliseconds: Int { Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000) }
}
