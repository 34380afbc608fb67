import DRCore
import Testing

@Suite struct ClockOffsetTests {
    static func progress(lsn: UInt64, stamp: Int64?, node: String = "a") -> PrimaryProgress {
        var progress = PrimaryProgress(node: node, timeline: 1, lsn: LSN(lsn), standbyLagSeconds: [:])
        progress.publishedAtMillis = stamp
        return progress
    }

    /// Reads one second apart, each taking 20 ms; the leader stamps its progress on its own
    /// clock, `leaderBehind` ms behind ours, halfway between two reads.
    static func offsetSeen(leaderBehind: Int64, reads: Int = 3) -> ClockOffset {
        var offset = ClockOffset()
        for read in 0..<Int64(reads) {
            let sent = 1_000_000 + read * 1000
            offset.observe(progress(lsn: UInt64(read), stamp: sent - 500 - leaderBehind), me: "b", sentMillis: sent, answeredMillis: sent + 20)
        }
        return offset
    }

    @Test(arguments: [
        (0 as Int64, nil as Int?), (4_000, nil), (-4_000, nil), (6_000, 6), (-6_000, -6), (60_000, 60), (-3_600_000, -3600),
    ])
    func anOffsetBeyondTheToleranceIsReported(leaderBehind: Int64, reported: Int?) {
        #expect(Self.offsetSeen(leaderBehind: leaderBehind).reportedSeconds == reported)
    }

    @Test func theFirstReadMeasuresNothing() {
        #expect(Self.offsetSeen(leaderBehind: 60_000, reads: 1).reportedSeconds == nil)
    }

    /// An unchanged progress was not published between the two reads: it may be any age.
    @Test func anUnchangedProgressMeasuresNothing() {
        var offset = ClockOffset()
        let old = Self.progress(lsn: 1, stamp: 0)
        offset.observe(old, me: "b", sentMillis: 1_000_000, answeredMillis: 1_000_020)
        offset.observe(old, me: "b", sentMillis: 1_001_000, answeredMillis: 1_001_020)
        #expect(offset.reportedSeconds == nil)
    }

    /// After an etcd outage the window between two reads is long: the estimate's
    /// uncertainty (half the window) is added to the tolerance instead of guessing.
    @Test func aLongWindowBetweenReadsWidensTheTolerance() {
        var offset = ClockOffset()
        offset.observe(Self.progress(lsn: 1, stamp: 0), me: "b", sentMillis: 1_000_000, answeredMillis: 1_000_020)
        // Published 10 s after the first read on a leader clock 8 s behind: the middle of
        // the 60 s window gives 28 s, give or take 30 s, which says nothing.
        offset.observe(Self.progress(lsn: 2, stamp: 1_010_000 - 8_000), me: "b", sentMillis: 1_060_000, answeredMillis: 1_060_020)
        #expect(offset.reportedSeconds == nil)
    }

    @Test func theLeaderReportsNoOffsetFromItself() {
        var offset = Self.offsetSeen(leaderBehind: 60_000)
        offset.observe(Self.progress(lsn: 9, stamp: 5, node: "b"), me: "b", sentMillis: 1_010_000, answeredMillis: 1_010_020)
        #expect(offset.reportedSeconds == nil)
    }

    /// A progress without a publication time (an earlier version's leader) measures nothing.
    @Test func anUnstampedProgressMeasuresNothing() {
        var offset = ClockOffset()
        offset.observe(Self.progress(lsn: 1, stamp: nil), me: "b", sentMillis: 1_000_000, answeredMillis: 1_000_020)
        offset.observe(Self.progress(lsn: 2, stamp: nil), me: "b", sentMillis: 1_001_000, answeredMillis: 1_001_020)
        #expect(offset.reportedSeconds == nil)
    }
}
