/// How long an agent waits between its loops.
public enum TickPacing {
    /// The pause before the next loop.
    ///
    /// Loops start one interval apart; a loop that took longer is followed at once. A
    /// leader whose loop did not renew its lease (etcd between two leaders, overloaded, a
    /// lost answer) tries again after a fifth of the interval instead: its deadline is the
    /// lease TTL less one interval after the last renewal — three intervals in the lab — so a
    /// second-long etcd election that swallowed one loop's read must not also cost it the
    /// next regular loop, and with it the lease. A lease kept by failsafe (the members'
    /// confirmations, etcd gone) has no renewal to hurry: the regular pace.
    ///
    /// - Parameters:
    ///   - interval: the health interval.
    ///   - elapsed: how long the loop just finished took.
    ///   - renewalMissed: this node holds an etcd lease and the loop did not renew it.
    public static func pause(interval: Duration, elapsed: Duration, renewalMissed: Bool) -> Duration {
        let regular = max(interval - elapsed, .zero)
        guard renewalMissed else { return regular }
        return min(regular, retry(interval: interval))
    }

    /// The pause before a leader tries its renewal again: a fifth of the interval, at least
    /// 50 ms, so an etcd that refuses at once is not asked in a tight loop.
    public static func retry(interval: Duration) -> Duration { max(interval / 5, .milliseconds(50)) }
}
