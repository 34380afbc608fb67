import DRCore
import Testing

/// The fence bookkeeping as one value: overlapping fences, and a failure that stays the
/// state until a fence succeeds.
@Suite struct FenceStateTests {
    enum Step { case begin, succeed, fail }

    static let cases: [([Step], FenceState, Bool, Bool)] = [
        ([], .idle, false, false),
        ([.begin], .underway(count: 1, previousFailure: nil), true, false),
        ([.begin, .succeed], .idle, false, false),
        ([.begin, .fail], .failed("e"), false, true),
        ([.begin, .fail, .begin], .underway(count: 1, previousFailure: "e"), true, true),
        ([.begin, .fail, .begin, .succeed], .idle, false, false),
        // The deadline starts a second fence while the first runs: one ending keeps the other's.
        ([.begin, .begin, .succeed], .underway(count: 1, previousFailure: nil), true, false),
        ([.begin, .begin, .fail], .underway(count: 1, previousFailure: "e"), true, true),
        ([.begin, .begin, .fail, .succeed], .idle, false, false),
        ([.succeed], .idle, false, false),
    ]

    @Test(arguments: 0..<cases.count)
    func steps(_ index: Int) {
        let (steps, expected, underway, failed) = Self.cases[index]
        var state = FenceState.idle
        for step in steps {
            switch step {
            case .begin: state.begin()
            case .succeed: state.end(failure: nil)
            case .fail: state.end(failure: "e")
            }
        }
        #expect(state == expected && state.isUnderway == underway && state.failed == failed, "\(steps)")
    }

    @Test func aSignalledPromotionMayStillTurnWritable() {
        #expect(!PromotionState.idle.mayTurnWritable && PromotionState.underway.mayTurnWritable && PromotionState.signalled.mayTurnWritable)
        #expect(PromotionState.underway.isUnderway && !PromotionState.signalled.isUnderway)
    }
}
