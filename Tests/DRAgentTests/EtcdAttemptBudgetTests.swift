import DRCoordination
import Testing

@Suite("How one etcd call shares its time among the endpoints")
struct EtcdAttemptBudgetTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var remaining: Duration
        var endpointsLeft: Int
        var expected: Duration?
        var testDescription: String { "\(remaining) left, \(endpointsLeft) endpoints → \(expected.map { "\($0)" } ?? "stop")" }
    }

    /// About the lab's regions (lease 5 s: tries of at most 1.67 s, a call of 1.67 s).
    static let budget = EtcdAttemptBudget(attemptLimit: .milliseconds(1800))

    @Test(arguments: [
        // Three members, the whole call left: each gets a third, not the full try.
        Row(remaining: .milliseconds(1800), endpointsLeft: 3, expected: .milliseconds(600)),
        // The first member held its share: the other two split what is left.
        Row(remaining: .milliseconds(1200), endpointsLeft: 2, expected: .milliseconds(600)),
        // A share below the minimum would time out a healthy member under load: it gets the minimum.
        Row(remaining: .milliseconds(900), endpointsLeft: 3, expected: .milliseconds(500)),
        // Less than the minimum left: all of it.
        Row(remaining: .milliseconds(300), endpointsLeft: 2, expected: .milliseconds(300)),
        // One member left and plenty of time: no more than one try's limit.
        Row(remaining: .seconds(10), endpointsLeft: 1, expected: .milliseconds(1800)),
        // Nothing left, or nobody left to ask: the call ends.
        Row(remaining: .milliseconds(5), endpointsLeft: 2, expected: nil),
        Row(remaining: .seconds(1), endpointsLeft: 0, expected: nil),
    ])
    func shares(_ row: Row) {
        #expect(Self.budget.nextAttempt(remaining: row.remaining, endpointsLeft: row.endpointsLeft) == row.expected)
    }

    /// However the tries go, a call that gives each try its whole share never takes longer
    /// than its budget.
    @Test func everyTryTogetherFitsTheCall() {
        for endpoints in 1...5 {
            var remaining = Duration.milliseconds(1800)
            var spent = Duration.zero
            for left in stride(from: endpoints, to: 0, by: -1) {
                guard let attempt = Self.budget.nextAttempt(remaining: remaining, endpointsLeft: left) else { break }
                spent += attempt
                remaining -= attempt
            }
            #expect(spent <= .milliseconds(1800), "\(endpoints) endpoints spent \(spent)")
        }
    }
}
