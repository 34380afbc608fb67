import DRCore
import Testing

@Suite struct RetryScheduleTests {
    let schedule = RetrySchedule(initial: .milliseconds(200), maximum: .seconds(5))

    @Test func backsOffExponentiallyWithEqualJitterUpToTheCap() {
        #expect(schedule.delay(afterAttempt: 0, random: 0, remaining: .seconds(60)) == .milliseconds(100))
        #expect(schedule.delay(afterAttempt: 0, random: 0.999_999, remaining: .seconds(60))! < .milliseconds(200))
        #expect(schedule.delay(afterAttempt: 3, random: 0, remaining: .seconds(60)) == .milliseconds(800))
        #expect(schedule.delay(afterAttempt: 10, random: 1, remaining: .seconds(60)) == .seconds(5), "capped")
        #expect(schedule.delay(afterAttempt: 10, random: 0, remaining: .seconds(60)) == .milliseconds(2500), "never less than half")
    }

    @Test func honoursRetryAfterAndTheDeadline() {
        #expect(schedule.delay(afterAttempt: 0, retryAfter: .seconds(2), random: 0.5, remaining: .seconds(60)) == .seconds(2))
        #expect(schedule.delay(afterAttempt: 0, retryAfter: .seconds(2), random: 0.5, remaining: .seconds(1)) == nil, "past the deadline: give up")
        #expect(schedule.delay(afterAttempt: 5, random: 0.5, remaining: .milliseconds(100)) == nil)
    }

    @Test func classifiesProviderAnswers() {
        #expect(ProviderOutcome.classify(status: 200, retryAfterHeader: nil) == .success)
        #expect(ProviderOutcome.classify(status: 204, retryAfterHeader: nil) == .success)
        #expect(ProviderOutcome.classify(status: 429, retryAfterHeader: "3") == .retry(after: .seconds(3)))
        #expect(ProviderOutcome.classify(status: 429, retryAfterHeader: "soon") == .retry(after: nil))
        #expect(ProviderOutcome.classify(status: 503, retryAfterHeader: nil) == .retry(after: nil))
        #expect(ProviderOutcome.classify(status: 400, retryAfterHeader: nil) == .stop)
        #expect(ProviderOutcome.classify(status: 401, retryAfterHeader: nil) == .stop)
        #expect(ProviderOutcome.classify(status: 404, retryAfterHeader: "1") == .stop)
    }
}
