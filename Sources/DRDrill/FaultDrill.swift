import DRCore

/// A drill that injects a fault into a running cluster (kills, partitions) and measures the
/// failover. Its implementation lives with the lab's fault code (DRLabDrill), so the agent
/// — which only schedules restore drills — links none of it.
public protocol FaultDrill: Sendable {
    func run(_ spec: DrillSpec, runner: DrillRunner, clock: PhaseClock, progress: @Sendable (String) -> Void) async throws -> DrillMeasurement
}

/// What a drill measured, before it becomes a report.
public struct DrillMeasurement: Sendable {
    public var rto: Double?
    public var rpo: Double?
    public var lostBytes: UInt64?
    public var validations: [DrillReport.ValidationResult] = []
    public var notes: [String] = []
    /// What makes the drill fail besides its objectives: e.g. a failover drill after which
    /// the old primary, not a standby, took the writes back (no failover was exercised).
    public var problems: [String] = []

    public init() {}
}

public enum DrillError: Error, CustomStringConvertible, Sendable {
    case notReady(String)
    public var description: String {
        switch self {
        case .notReady(let detail): detail
        }
    }
}
