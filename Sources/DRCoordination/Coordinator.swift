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
    /// Renews every lease of `leases` in one request; returns the TTL granted to each, and
    /// leaves out a lease that is already gone (then every key bound to it is gone too).
    /// Gives up after `limit` (the store's own time-outs unless shorter): a renewal that
    /// lands after the holder's deadline is worth nothing. One request for several leases
    /// is what lets a leader renew its leader lease and its member lease together
    /// (docs/fleet.md).
    func keepAlive(leases: [Int64], within limit: Duration?) async throws -> [Int64: Duration]
    func revoke(lease: Int64) async throws

    /// Takes the leader key for `node` if nobody holds it, bound to `lease`; the key's
    /// create revision is the new term.
    func acquireLeadership(node: String, lease: Int64) async throws -> LeadershipClaim
    func leader() async throws -> LeaderRecord?
    /// Deletes the leader key only if `node` still holds it under `term`; false otherwise.
    func releaseLeadership(node: String, term: Int64) async throws -> Bool

    /// Every key an agent decides from, at one revision; a record that cannot be read is
    /// skipped (listed in the snapshot), never fatal. Throws only when nothing can be read.
    /// What `writes` carries is written first in the same transaction: the member record
    /// on the terms of `publish(_:lease:)`, the leader's progress on those of
    /// `publishProgress` (the answer says which were written). A loop then costs etcd one
    /// request for its read and its writes, not three (docs/fleet.md). A write etcd refuses
    /// (a lease it no longer has, its space quota) fails the whole request.
    func snapshot(writing writes: LoopWrites) async throws -> LoopAnswer
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

/// What a loop's read writes in the same transaction (`Coordinator.snapshot(writing:)`).
public struct LoopWrites: Sendable, Equatable {
    /// The leader's progress, written only while its node holds the leader key under the term.
    public var progress: ProgressWrite?
    /// This agent's member record, bound to its member lease (whoever leads).
    public var member: MemberWrite?

    /// Nothing to write: a plain read.
    public static let none = LoopWrites()

    public init(progress: ProgressWrite? = nil, member: MemberWrite? = nil) {
        self.progress = progress
        self.member = member
    }

    public var isEmpty: Bool { progress == nil && member == nil }
}

/// A member record to write bound to `lease` (`LoopWrites`).
public struct MemberWrite: Sendable, Equatable {
    public var record: MemberRecord
    public var lease: Int64
    public init(_ record: MemberRecord, lease: Int64) {
        self.record = record
        self.lease = lease
    }
}

/// A loop's read and which of its writes were made.
public struct LoopAnswer: Sendable {
    public var snapshot: CoordinationSnapshot
    /// The progress was written (false: none was asked, or its term is over).
    public var progressWritten: Bool
    /// The member record was written (false: none was asked).
    public var memberWritten: Bool
    public init(snapshot: CoordinationSnapshot, progressWritten: Bool = false, memberWritten: Bool = false) {
        self.snapshot = snapshot
        self.progressWritten = progressWritten
        self.memberWritten = memberWritten
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
    public func snapshot() async throws -> CoordinationSnapshot { try await snapshot(writing: .none).snapshot }

    /// Renews `lease`; returns the TTL granted. Throws `CoordinationError.leaseExpired`
    /// when the lease is already gone (see `keepAlive(leases:within:)`).
    public func keepAlive(lease: Int64, within limit: Duration?) async throws -> Duration {
        guard let ttl = try await keepAlive(leases: [lease], within: limit)[lease] else { throw CoordinationError.leaseExpired(lease) }
        return ttl
    }

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
