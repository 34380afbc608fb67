import DRCore
import Testing

/// The loss window comes from the primary's own clock and LSNs, never from a standby's
/// clock: a fake clock drives it here.
@Suite struct WALHistoryTests {
    static func history(_ samples: [(Double, UInt64)], span: Duration = .seconds(60)) -> WALHistory {
        var history = WALHistory(span: span)
        for (at, lsn) in samples { history.record(LSN(lsn), at: .seconds(at)) }
        return history
    }

    @Test func aCaughtUpStandbyLosesNothing() {
        let history = Self.history([(0, 100), (1, 200), (2, 300)])
        #expect(history.lossWindow(flushed: LSN(300), now: .seconds(2.4)) == .zero)
        #expect(history.lossWindow(flushed: LSN(350), now: .seconds(2.4)) == .zero, "ahead of the last sample: nothing older is missing")
    }

    @Test func theWindowRunsFromTheLastSampleTheStandbyHad() {
        let history = Self.history([(0, 100), (1, 200), (2, 300), (3, 400)])
        #expect(history.lossWindow(flushed: LSN(250), now: .seconds(3.5)) == .seconds(2.5), "WAL past 250 was written after t=1")
        #expect(history.lossWindow(flushed: LSN(200), now: .seconds(3.5)) == .seconds(2.5))
        #expect(history.lossWindow(flushed: LSN(100), now: .seconds(10)) == .seconds(10), "a standby that stopped answering: the window keeps growing")
    }

    @Test func idleWALDoesNotCountAsLoss() {
        // Nothing written for a minute: a standby with everything loses nothing, however long ago it was.
        let history = Self.history([(0, 500), (30, 500), (60, 500)])
        #expect(history.lossWindow(flushed: LSN(500), now: .seconds(61)) == .zero)
    }

    @Test func olderThanTheHistoryIsUnknown() {
        let history = Self.history([(0, 100), (30, 200), (61, 300), (62, 400)], span: .seconds(30))
        #expect(history.samples.first?.lsn == LSN(200), "kept: one sample at or before the span's start")
        #expect(history.lossWindow(flushed: LSN(150), now: .seconds(62)) == nil)
        #expect(Self.history([]).lossWindow(flushed: LSN(1), now: .seconds(1)) == nil, "no history yet: unknown")
    }

    @Test func aNewTimelineStartsAgain() {
        let history = Self.history([(0, 900), (1, 1000), (2, 50)])
        #expect(history.samples.map(\.lsn) == [LSN(50)])
    }
}
