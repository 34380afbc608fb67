import DRCore

/// The consensus store as the agents see it. Production talks to etcd (`EtcdCoordinator`);
/// the agent's tests use an in-memory store with the same semantics (`DRAgentTesting`), so
/// the agent's bookkeeping is exercised without servers. DRCore's decisions never see it,
/// only the values it returns.
public protocol Coordinator: Sendable {
    /// Connections opened to the store since the start (nil: not a networked store). A
    /// requirement, not only an extension, so that `any Coordinator` reaches etcd's count.
    var connectionsOpened: Int? { get }
    /// A new lease that expires `ttl` after its last renewal.
    func grantLease(ttl: Duration) async throws -> Int64
    /// Renews `lease`; returns the TTL granted. Throws `CoordinationError.leaseExpired`
    /// when the lease is already gone (then every key bound to it is gone too). Gives up
    /// after `limit` (the store's own time-outs unless shorter): a renewal that lands after
    /// the holder's deadline is worth nothing.
    func keepAlive(lease: Int64, within limit: Duration?) async throws -> Duration
    func revoke(lease: Int64) async throws

    /// Takes the leader key for `node` if nobody holds it, bound to `lease`; the key's
    /// create revision is the new term.
    func acquireLeadership(node: String, lease: Int64) async throws -> LeadershipClaim
    func leader() async throws -> LeaderRecord?
    /// Deletes the leader key only if `node` still holds it under `term`; false otherwise.
    func releaseLeadership(node: String, term: Int64) async throws -> Bool

    /// Every key an agent decides from, at one revision; a record that cannot be read is
    /// skipped (listed in the snapshot), never fatal. Throws only when nothing can be read.
    /// With `progress`, the leader's progress is written first in the same transaction, on
    /// the terms of `publishProgress` (`written` says whether it was): a busy leader's loop
    /// then costs etcd one request for both, not two (docs/fleet.md).
    func snapshot(writing progress: ProgressWrite?) async throws -> (snapshot: CoordinationSnapshot, written: Bool)
    /// Returns true as soon as the leader key changes after `revision`, false after `limit`.
    func waitForLeaderChange(after revision: Int64, within limit: Duration) async -> Bool

    /// This agent's member record, bound to its own lease (it vanishes with the agent).
    func publish(_ member: MemberRecord, lease: Int64) async throws
    /// The leader's last published WAL position and its standbys' loss windows, written
    /// only while `progress.node` holds the leader key under `term`; false (nothing written)
    /// when that term is over — a deposed leader's late write must not make its old
    /// timeline look like the newest.
    func publishProgress(_ progress: PrimaryProgress, term: Int64) async throws -> Bool
    /// Writes the `sync` key only while `record.leader` holds the leader key under
    /// `record.term`; false (nothing written) when that term is stale.
    func recordSynchronous(_ record: SynchronousRecord) async throws -> Bool
    /// Writes the `failsafe` key only while `record.leader` holds the leader key under
    /// `record.term`; false (nothing written) when that term is stale.
    func publishFailsafe(_ record: FailsafeRecord) async throws -> Bool

    /// Operator intents: nil withdraws; a set intent lives `expiry` at most.
    func setFailoverIntent(_ intent: FailoverIntent?, expiry: Duration) async throws
    func setSwitchoverIntent(_ intent: SwitchoverIntent?, expiry: Duration) async throws
    func setRejoinIntent(node: String, _ requested: Bool, expiry: Duration) async throws
    func setReinitIntent(node: String, _ requested: Bool, expiry: Duration) async throws
    /// A confirmed failover drill's request that NODE's agent crash its primary (withdrawn
    /// by that agent before it does, so it happens once).
    func setDrillCrashIntent(node: String, _ requested: Bool, expiry: Duration) async throws
    /// `drctl restart NODE` (nil: withdrawn by NODE's agent once done or refused).
    func setRestartIntent(node: String, _ request: RestartRequest?, expiry: Duration) async throws

    /// Appends a failover's evidence to the cluster's history.
    func appendHistory(_ evidence: FailoverEvidence) async throws
    /// Appends a stretch the leader ran without etcd (failsafe) to the history.
    func appendFailsafeEpisode(_ episode: FailsafeEpisode) async throws
}

/// The leader's progress to write under its term (`Coordinator.snapshot(writing:)`).
public struct ProgressWrite: Sendable, Equatable {
    public var progress: PrimaryProgress
    public var term: Int64
    public init(_ progress: PrimaryProgress, term: Int64) {
        self.progress = progress
        self.term = term
    }
}

/// How long an operator's intent lives unless it is carried out (or withdrawn) first.
public let operatorIntentExpiry: Duration = .seconds(600)

public enum LeadershipClaim: Sendable, Equatable {
    case acquired(LeaderRecord)
    case heldBy(LeaderRecord)
}

public enum CoordinationError: Error, Sendable, CustomStringConvertible {
    /// No endpoint answered, or those that did could not serve the request (no leader,
    /// overloaded); each endpoint's failure is listed.
    case unavailable([String])
    /// etcd answered with an error.
    case server(endpoint: String, path: String, status: Int, message: String)
    case leaseExpired(Int64)
    /// A response did not have the documented shape.
    case malformed(endpoint: String, path: String, detail: String)
    case authentication(String)

    public var description: String {
        switch self {
        case .unavailable(let failures):
            return "no etcd endpoint could serve the request: " + failures.joined(separator: "; ")
        case let .server(endpoint, path, status, message):
            return "etcd \(endpoint)\(path) answered \(status): \(message)"
        case .leaseExpired(let id):
            return "lease \(String(id, radix: 16)) has expired"
        case let .malformed(endpoint, path, detail):
            return "etcd \(endpoint)\(path) sent an unexpected response: \(detail)"
        case .authentication(let message):
            return "etcd authentication failed: \(message) (check coordination.username and its password)"
        }
    }
}

extension Coordinator {
    /// Every key an agent decides from, at one revision (`snapshot(writing:)` writing nothing).
    public func snapshot() async throws -> CoordinationSnapshot { try await snapshot(writing: nil).snapshot }

    /// With keep-alive it stays at one per member unless members restart or cuts break them.
    public var connectionsOpened: Int? { nil }

    /// Renews `lease` within the store's own time-outs.
    public func keepAlive(lease: Int64) async throws -> Duration { try await keepAlive(lease: lease, within: nil) }
}

extension CoordinationError {
    /// No member answered at all (as opposed to a member answering with an error).
    public var isUnavailable: Bool {
        if case .unavailable = self { return true }
        return false
    }
}
