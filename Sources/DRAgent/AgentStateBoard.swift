import DRCore
import Foundation

/// The latest snapshot of each node, written by its `NodeAgent` after every loop and read
/// by the HTTP API: a lock, not an actor, so a slow loop never delays a health check.
public final class AgentStateBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var snapshots: [String: NodeSnapshot] = [:]
    private var preflightReport: PreflightReport?
    private var sightings: [String: ClusterSighting] = [:]
    private var repositoryContents = RepositoryContents()
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

    func publish(_ sighting: ClusterSighting, of node: String) { lock.withLock { sightings[node] = sighting } }

    /// What the node's agent last read of the cluster (for the status page).
    public func sighting(of node: String) -> ClusterSighting? { lock.withLock { sightings[node] } }

    func publish(_ contents: RepositoryContents) { lock.withLock { repositoryContents = contents } }

    /// The repository's backups and drill reports as the scheduler last listed them.
    public var repository: RepositoryContents { lock.withLock { repositoryContents } }
}

/// What a node's agent last read of the cluster: the etcd snapshot (kept when etcd stops
/// answering), whether etcd answered its last read, and its own DNS bookkeeping.
public struct ClusterSighting: Sendable {
    public var snapshot: CoordinationSnapshot?
    public var etcdReachable: Bool
    public var dns: [String: DNSRecordState]
}

/// The evidence the status page lists, as the scheduler last read it (empty until then):
/// the repository's backups and drill reports, the failover history from etcd.
public struct RepositoryContents: Sendable {
    public var backups: [BackupManifest] = []
    public var drills: [StatusPageModel.Drill] = []
    public var failovers: [FailoverEvidence] = []
}
