import DRCore
import Foundation

/// Time as the agent reads and waits on it. Production runs on the host's monotonic clock;
/// tests run on a manual clock (`DRAgentTesting.ManualClock`) that moves only when told to,
/// so a lease deadline or a slow promotion happens at an exact, repeatable moment.
public protocol AgentClock: Sendable {
    /// Monotonic time since this clock started: what leases and fencing deadlines count on.
    var now: AgentInstant { get }
    /// The host's monotonic clock (CLOCK_MONOTONIC), which every process on the host shares:
    /// the lease file the watchdog enforces is written in it.
    var hostMonotonic: AgentInstant { get }
    /// Milliseconds since 1970, only for records other machines read (never for deadlines).
    var wallMillis: Int64 { get }
    /// Suspends until `deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: AgentInstant) async throws
    /// Runs `work` once at `deadline` unless the returned task is cancelled first.
    func schedule(at deadline: AgentInstant, _ work: @escaping @Sendable () async -> Void) -> Task<Void, Never>
    /// A moment measured by code outside the agent (a DNS switch) on this clock.
    func instant(of moment: ContinuousClock.Instant) -> AgentInstant
}

extension AgentClock {
    public func sleep(for duration: Duration) async throws { try await sleep(until: now + duration) }

    public func schedule(at deadline: AgentInstant, _ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        Task {
            guard (try? await sleep(until: deadline)) != nil, !Task.isCancelled else { return }
            await work()
        }
    }
}

/// The host's monotonic clock, counted from the agent's start.
public struct SystemAgentClock: AgentClock {
    let origin: ContinuousClock.Instant

    public init() { origin = ContinuousClock.now }

    public var now: AgentInstant { instant(of: .now) }
    public var hostMonotonic: AgentInstant { FencingWatchdog.monotonicNow() }
    public var wallMillis: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    public func sleep(until deadline: AgentInstant) async throws {
        try await Task.sleep(until: origin + deadline.sinceStart, clock: .continuous)
    }

    public func instant(of moment: ContinuousClock.Instant) -> AgentInstant { AgentInstant(moment - origin) }
}
