/// How one gateway call shares its time among etcd's endpoints.
///
/// A call tries the endpoints in turn. Without a budget, each try could take its full
/// time-out, so a member that holds requests (one that lost its raft leader, a host that
/// black-holes packets) cost a call a whole time-out per such member — and a leader whose
/// renewal waited behind that call missed its lease deadline while the other members had
/// long elected a new leader (the RegionCuts flake of 2026-12-07). With a budget, the call
/// ends when its time is spent, and each try gets at most an equal share of what is left,
/// so a stalled member costs a fraction of the call, never all of it.
public struct EtcdAttemptBudget: Sendable, Equatable {
    /// The longest one try may take, connection included, when time is plentiful.
    public var attemptLimit: Duration
    /// The shortest share worth giving a try: below it, a healthy member under load would
    /// time out too, so the remaining endpoints share what is left less evenly.
    public var minimumShare: Duration

    public init(attemptLimit: Duration, minimumShare: Duration = .milliseconds(500)) {
        self.attemptLimit = attemptLimit
        self.minimumShare = minimumShare
    }

    /// Below this, a try is not worth sending.
    static let shortestTry = Duration.milliseconds(10)
    /// The pause before a call asks every member again after each answered "not now" (an
    /// election), doubled for each further round up to `longestPause`: short against an
    /// election's second, long enough not to hammer members that are busy electing.
    static let firstPause = Duration.milliseconds(50)
    static let longestPause = Duration.milliseconds(400)

    /// The time the next try may take, given what is left of the call and how many
    /// endpoints are still untried in this round; nil when the call's time is spent.
    public func nextAttempt(remaining: Duration, endpointsLeft: Int) -> Duration? {
        guard remaining > Self.shortestTry, endpointsLeft > 0 else { return nil }
        let share = max(remaining / endpointsLeft, min(minimumShare, remaining))
        return min(attemptLimit, share)
    }
}
