import DRCore

/// The consensus store as the agents and the CLI use it. One implementation talks to etcd;
/// DRCore's decisions never see it, only the values it returns.
public protocol Coordinator: Sendable {
    /// A new lease that expires `ttl` after its last renewal.
    func grantLease(ttl: Duration) async throws -> Int64
    /// Renews `lease`; returns the TTL granted. Throws `CoordinationError.leaseExpired`
    /// when the lease is already gone (then every key bound to it is gone too).
    func keepAlive(lease: Int64) async throws -> Duration
    func revoke(lease: Int64) async throws

    /// Takes the leader key for `node` if nobody holds it, bound to `lease`.
    func acquireLeadership(node: String, lease: Int64) async throws -> LeadershipClaim
    func leader() async throws -> LeaderRecord?
    /// Deletes the leader key only if `node` still holds it under `term`; false otherwise.
    func releaseLeadership(node: String, term: Int64) async throws -> Bool

    func publish(_ member: MemberRecord, lease: Int64) async throws
    func members() async throws -> [MemberRecord]
}

public enum LeadershipClaim: Sendable, Equatable {
    case acquired(LeaderRecord)
    case heldBy(LeaderRecord)
}

public enum CoordinationError: Error, Sendable, CustomStringConvertible {
    /// No endpoint answered; each endpoint's failure is listed.
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
            return "no etcd endpoint answered: " + failures.joined(separator: "; ")
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
