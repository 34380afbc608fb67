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

    /// The time the next try may take, given what is left of the call and how many
    /// endpoints are still untried; nil when the call's time is spent.
    public func nextAttempt(remaining: Duration, endpointsLeft: Int) -> Duration? {
        guard remaining > .milliseconds(10), endpointsLeft > 0 else { return nil }
        let share = max(remaining / endpointsLeft, min(minimumShare, remaining))
        return min(attemptLimit, share)
    }
}
