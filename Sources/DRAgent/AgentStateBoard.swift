import DRCore
import Foundation

/// The latest snapshot of each node, written by its `NodeAgent` after every loop and read
/// by the HTTP API: a lock, not an actor, so a slow loop never delays a health check.
public final class AgentStateBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var snapshots: [String: NodeSnapshot] = [:]
    private var preflightReport: PreflightReport?
    /// The clock snapshots are stamped with (one per process, shared by every agent).
    public let clock = ContinuousClock()
    public let started: ContinuousClock.Instant

    public init() { started = clock.now }

    public var now: AgentInstant { AgentInstant(clock.now - started) }

    func publish(_ snapshot: NodeSnapshot) { lock.withLock { snapshots[snapshot.node] = snapshot } }

    /// The node's latest snapshot, with the region's latest preflight.
    public func snapshot(of node: String) -> NodeSnapshot? {
        lock.withLock {
            var snapshot = snapshots[node]
            snapshot?.preflight = preflightReport
            return snapshot
        }
    }

    func publish(_ report: PreflightReport) { lock.withLock { preflightReport = report } }
}
