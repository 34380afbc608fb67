import DRCoordination
import DRCore
import Foundation

/// What a leader's agent does against etcd each loop — read the cluster, renew its lease —
/// done every `every` for `duration` through the agent's own gateway, and timed: how long
/// each loop took, and the longest stretch between two renewals that etcd confirmed (what
/// the lease deadline sees). Measures an etcd across regions, its elections included.
public struct EtcdLoopProbe: Sendable {
    public struct Report: Codable, Sendable, Equatable {
        /// Each successful loop's duration in milliseconds, in order.
        public var loopMillis: [Int]
        public var failures: Int
        /// The longest time between the sending of two confirmed renewals, in milliseconds
        /// (from the start to the first, and from the last to the end, count too).
        public var longestRenewalGapMillis: Int
        /// When the last confirmed renewal was sent, and when the probe ended, in
        /// milliseconds from its start.
        public var lastRenewalMillis: Int
        public var durationMillis: Int
        /// The first errors, for the operator.
        public var errors: [String]

        /// The loop durations' median, p90 and max (milliseconds); zeros when none succeeded.
        public var percentiles: (median: Int, p90: Int, max: Int) {
            let sorted = loopMillis.sorted()
            guard let last = sorted.last else { return (0, 0, 0) }
            let p90 = min(sorted.count - 1, Int((Double(sorted.count) * 0.9).rounded(.up)) - 1)
            return (sorted[(sorted.count - 1) / 2], sorted[max(0, p90)], last)
        }
    }

    public var endpoints: [String]
    public var ttl: Duration
    public var every: Duration
    /// The gateway's connect time-out (requests get twice as long), as the agent sizes it.
    public var timeout: Duration

    public init(endpoints: [String], ttl: Duration, every: Duration, timeout: Duration) {
        self.endpoints = endpoints
        self.ttl = ttl
        self.every = every
        self.timeout = timeout
    }

    public func run(for duration: Duration) async throws -> Report {
        let coordinator = EtcdCoordinator(gateway: EtcdGateway(endpoints: endpoints, timeout: timeout), prefix: "/drctl/probe/")
        let lease = try await coordinator.grantLease(ttl: ttl)
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + duration
        var report = Report(loopMillis: [], failures: 0, longestRenewalGapMillis: 0, lastRenewalMillis: 0, durationMillis: 0, errors: [])
        var lastRenewal = start
        while clock.now < end {
            let sent = clock.now
            do {
                _ = try await coordinator.snapshot()
                _ = try await coordinator.keepAlive(lease: lease)
                report.loopMillis.append(Int((clock.now - sent).milliseconds))
                report.longestRenewalGapMillis = max(report.longestRenewalGapMillis, Int((sent - lastRenewal).milliseconds))
                lastRenewal = sent
            } catch {
                report.failures += 1
                if report.errors.count < 5 { report.errors.append("\(error)") }
            }
            let pause = every - (clock.now - sent)
            if pause > .zero { try await Task.sleep(for: pause) }
        }
        report.longestRenewalGapMillis = max(report.longestRenewalGapMillis, Int((clock.now - lastRenewal).milliseconds))
        report.lastRenewalMillis = Int((lastRenewal - start).milliseconds)
        report.durationMillis = Int((clock.now - start).milliseconds)
        try? await coordinator.revoke(lease: lease)
        return report
    }
}
