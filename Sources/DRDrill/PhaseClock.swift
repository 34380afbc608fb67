import DRCore
import Foundation

/// Times a drill's phases on one monotonic clock from the drill's start.
public final class PhaseClock: @unchecked Sendable {
    private let clock = ContinuousClock()
    public let started: ContinuousClock.Instant
    public let startedDate = Date()
    public private(set) var phases: [DrillReport.Phase] = []

    public init() { started = clock.now }

    public var elapsed: Double { (clock.now - started).seconds }

    /// Runs `body` as a phase named `name`.
    public func phase<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
        let start = elapsed
        defer { phases.append(.init(name: name, start: start, end: elapsed)) }
        return try await body()
    }

    /// Records a phase measured elsewhere (seconds from the drill's start).
    public func record(_ name: String, start: Double, end: Double) { phases.append(.init(name: name, start: start, end: end)) }

    /// Seconds from the drill's start of a moment on this host's monotonic clock.
    public func offset(of instant: ContinuousClock.Instant) -> Double { (instant - started).seconds }

    /// Seconds from the drill's start of a wall-clock time (same host only).
    public func offset(ofWallMillis millis: Int64) -> Double { Double(millis) / 1000 - startedDate.timeIntervalSince1970 }
}
