import DRCore
import Foundation

/// The latest snapshot of each node, written by its `NodeAgent` after every loop and read
/// by the HTTP API: a lock, not an actor, so a slow loop never delays a health check.
public final class AgentStateBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var snapshots: [String: NodeSnapshot] = [:]
    /// The clock snapshots are stamped with (one per process, shared by every agent).
    public let clock = ContinuousClock()
    public let started: ContinuousClock.Instant

    public init() { started = clock.now }

    public var now: AgentInstant { AgentInstant(clock.now - started) }

    func publish(_ snapshot: NodeSnapshot) { lock.withLock { snapshots[snapshot.node] = snapshot } }

    public func snapshot(of node: String) -> NodeSnapshot? { lock.withLock { snapshots[node] } }
}
