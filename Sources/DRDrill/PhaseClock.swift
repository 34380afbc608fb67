import DRCore
import Foundation

/// Times a drill's phases on one monotonic clock from the drill's start.
final class PhaseClock: @unchecked Sendable {
    private let clock = ContinuousClock()
    let started: ContinuousClock.Instant
    let startedDate = Date()
    private(set) var phases: [DrillReport.Phase] = []

    init() { started = clock.now }

    var elapsed: Double { (clock.now - started).seconds }

    /// Runs `body` as a phase named `name`.
    func phase<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
        let start = elapsed
        defer { phases.append(.init(name: name, start: start, end: elapsed)) }
        return try await body()
    }

    /// Records a phase measured elsewhere (seconds from the drill's start).
    func record(_ name: String, start: Double, end: Double) { phases.append(.init(name: name, start: start, end: end)) }

    /// Seconds from the drill's start of a wall-clock time (same host only).
    func offset(ofWallMillis millis: Int64) -> Double { Double(millis) / 1000 - startedDate.timeIntervalSince1970 }
}
