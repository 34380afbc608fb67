import DRAgent
import DRCore
import Foundation

/// A clock that moves only when a test advances it, and knows when everything waiting on it
/// has caught up: `advance(to:)` wakes each sleeper at its own deadline, in order, and returns
/// once every task it tracks has finished or is asleep again. A lease deadline, a promotion
/// heartbeat or a slow promotion then happens at an exact, repeatable moment.
///
/// The tasks it tracks are the timers the agent schedules on it and the work a test starts
/// with `track(_:)` (an agent's tick). Every agent of a test shares one clock, as the hosts of
/// a lab share real time; `hostMonotonic` is the same clock, so a lease file written by one
/// agent reads correctly in its successor.
public final class ManualClock: AgentClock, @unchecked Sendable {
    /// Wall-clock time at `AgentInstant(.zero)`: 2026-01-01T00:00:00Z.
    public static let wallOrigin: Int64 = 1_767_225_600_000

    private struct Sleeper {
        var deadline: AgentInstant
        var continuation: CheckedContinuation<Void, any Error>
        var owner: UUID?
    }

    @TaskLocal static var owner: UUID?

    private let lock = NSLock()
    private var current = AgentInstant(.zero)
    private var wallStep: Int64 = 0
    private var hostWallSteps: [String: Int64] = [:]
    private var sleepers: [UUID: Sleeper] = [:]
    private var cancelledBeforeSleeping: Set<UUID> = []
    /// Tracked tasks that have not finished.
    private var running: Set<UUID> = []

    public init() {}

    public var now: AgentInstant { lock.withLock { current } }
    public var hostMonotonic: AgentInstant { now }
    public var wallMillis: Int64 { Self.wallOrigin + now.sinceStart.milliseconds + lock.withLock { wallStep } }

    /// Steps the wall clock (an NTP step, an operator's `date -s`) without moving the
    /// monotonic clock: nothing the agents time may change.
    public func stepWallClock(by offset: Duration) { lock.withLock { wallStep += offset.milliseconds } }

    /// Steps one host's wall clock only (a host whose NTP broke): its agent reads
    /// `wallMillis(of:)` through `host(_:)`.
    public func stepWallClock(of host: String, by offset: Duration) { lock.withLock { hostWallSteps[host, default: 0] += offset.milliseconds } }

    /// The wall clock of `host`: this clock's, plus whatever that host's was stepped by.
    public func wallMillis(of host: String) -> Int64 { wallMillis + lock.withLock { hostWallSteps[host] ?? 0 } }

    /// This clock as the agent on `host` reads it: the same monotonic time and timers, the
    /// host's own wall clock.
    public func host(_ name: String) -> any AgentClock { HostClock(base: self, host: name) }
    public func instant(of moment: ContinuousClock.Instant) -> AgentInstant { now }

    public func sleep(until deadline: AgentInstant) async throws {
        let id = UUID()
        let owner = Self.owner
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = lock.withLock {
                    if cancelledBeforeSleeping.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline <= current { return .success(()) }
                    sleepers[id] = Sleeper(deadline: deadline, continuation: continuation, owner: owner)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = lock.withLock {
                let sleeper = sleepers.removeValue(forKey: id)
                if sleeper == nil { cancelledBeforeSleeping.insert(id) }
                return sleeper
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// A timer the clock tracks: `advance` waits for it to finish once it is due.
    public func schedule(at deadline: AgentInstant, _ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        track {
            guard (try? await self.sleep(until: deadline)) != nil, !Task.isCancelled else { return }
            await work()
        }
    }

    /// Runs `work` as a task the clock waits for (in `advance` and `settle`) unless it is
    /// asleep on this clock.
    @discardableResult
    public func track(_ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        let id = UUID()
        lock.withLock { _ = running.insert(id) }
        return Task {
            await Self.$owner.withValue(id) { await work() }
            lock.withLock { _ = running.remove(id) }
        }
    }

    /// Moves the clock to `target`, waking sleepers at their own deadlines in order and
    /// letting what they start settle before the next one.
    public func advance(to target: AgentInstant) async throws {
        while true {
            let due: [Sleeper] = lock.withLock {
                guard let next = sleepers.values.map(\.deadline).filter({ $0 <= target }).min() else { return [] }
                current = max(current, next)
                let ids = sleepers.filter { $0.value.deadline <= next }.map(\.key)
                return ids.compactMap { sleepers.removeValue(forKey: $0) }
            }
            if due.isEmpty { break }
            for sleeper in due { sleeper.continuation.resume() }
            try await settle()
        }
        lock.withLock { current = max(current, target) }
        try await settle()
    }

    public func advance(by duration: Duration) async throws { try await advance(to: now + duration) }

    /// Waits until every tracked task has finished or sleeps on this clock. A task blocked
    /// on anything else for long (real) seconds is a bug in the test or the agent: that
    /// throws instead of hanging the test run.
    public func settle() async throws {
        let started = ContinuousClock.now
        var rounds = 0
        while true {
            let settled = lock.withLock {
                let asleep = Set(sleepers.values.compactMap(\.owner))
                return running.isSubset(of: asleep)
            }
            if settled { return }
            rounds += 1
            if rounds < 1000 {
                await Task.yield()
            } else {
                if ContinuousClock.now - started > .seconds(30) { throw ManualClockError.stuck(at: now, tasks: lock.withLock { running.count }) }
                try await Task.sleep(for: .microseconds(200))
            }
        }
    }
}

public enum ManualClockError: Error, CustomStringConvertible {
    case stuck(at: AgentInstant, tasks: Int)

    public var description: String {
        switch self {
        case let .stuck(at, tasks): "at \(at), \(tasks) tracked task(s) neither finished nor slept on the manual clock for 30 s of real time"
        }
    }
}

/// One host's view of a `ManualClock`: its timers are the shared clock's, its wall clock
/// may be stepped on its own (`ManualClock.stepWallClock(of:by:)`).
struct HostClock: AgentClock {
    let base: ManualClock
    let host: String

    var now: AgentInstant { base.now }
    var hostMonotonic: AgentInstant { base.hostMonotonic }
    var wallMillis: Int64 { base.wallMillis(of: host) }
    func sleep(until deadline: AgentInstant) async throws { try await base.sleep(until: deadline) }
    func schedule(at deadline: AgentInstant, _ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> { base.schedule(at: deadline, work) }
    func instant(of moment: ContinuousClock.Instant) -> AgentInstant { base.instant(of: moment) }
}
