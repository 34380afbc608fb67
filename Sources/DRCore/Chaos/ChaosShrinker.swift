/// Shrinks a violating schedule to a shorter one that still violates, so the replay shows
/// the few faults that matter. Each try is a whole lab campaign, so the search is greedy
/// and bounded: remove halves of the steps, then quarters, down to single steps, keeping
/// every removal after which the campaign still fails (delta debugging without its
/// complement step). Steps keep their times, so what remains replays as it happened.
public enum ChaosShrinker {
    public struct Result: Sendable, Equatable {
        public var plan: ChaosPlan
        /// Campaigns run to find it.
        public var tries: Int
    }

    /// - Parameters:
    ///   - budget: at most this many campaigns.
    ///   - stillFails: runs a schedule; true when it violates a property again.
    public static func shrink(_ plan: ChaosPlan, budget: Int, stillFails: (ChaosPlan) async throws -> Bool) async rethrows -> Result {
        var current = plan
        var tries = 0
        var chunk = max(1, current.steps.count / 2)
        while tries < budget, current.steps.count > 1 {
            var start = 0
            while start < current.steps.count, tries < budget, current.steps.count > 1 {
                var candidate = current
                candidate.steps.removeSubrange(start..<min(start + chunk, current.steps.count))
                tries += 1
                if try await stillFails(candidate) {
                    current = candidate
                } else {
                    start += chunk
                }
            }
            if chunk == 1 { break }
            chunk = max(1, chunk / 2)
        }
        return Result(plan: current, tries: tries)
    }
}
