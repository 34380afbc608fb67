import DRCore
import Foundation

/// etcd's own raft leadership, which the leader's agent keeps out of the primary's region
/// (`EtcdLeaderPlacement`): who leads etcd, its members, and etcd's MoveLeader.
extension EtcdCoordinator {
    /// etcd's raft leader as the answering member sees it, and every member with its client URLs.
    public struct EtcdLeadership: Sendable, Equatable {
        public var leaderID: String
        public var members: [EtcdLeaderPlacement.Member]
        public var clientURLs: [String: [String]]
    }

    public func etcdLeadership() async throws -> EtcdLeadership {
        let status = try await gateway.call("/v3/maintenance/status", [:])
        guard let leader = Self.memberID(status["leader"]) else {
            throw CoordinationError.malformed(endpoint: "", path: "/v3/maintenance/status", detail: "no leader")
        }
        let list = try await gateway.call("/v3/cluster/member/list", [:])
        let members = (list["members"] as? [[String: Any]] ?? []).compactMap { member -> (EtcdLeaderPlacement.Member, [String])? in
            guard let id = Self.memberID(member["ID"]), let name = member["name"] as? String, !name.isEmpty else { return nil }
            return (EtcdLeaderPlacement.Member(id: id, name: name), member["clientURLs"] as? [String] ?? [])
        }
        return EtcdLeadership(
            leaderID: leader, members: members.map(\.0),
            clientURLs: Dictionary(members.map { ($0.0.id, $0.1) }, uniquingKeysWith: { first, _ in first }))
    }

    /// Asks etcd's leader (at one of `leaderURLs`) to hand its leadership to `target`.
    public func moveEtcdLeader(to target: String, leaderURLs: [String]) async throws {
        var failures: [String] = []
        for url in leaderURLs {
            do {
                _ = try await gateway.call("/v3/maintenance/transfer-leadership", ["targetID": target], at: url)
                return
            } catch {
                failures.append("\(url): \(error)")
            }
        }
        throw CoordinationError.unavailable(failures.isEmpty ? ["etcd's leader advertises no client URL"] : failures)
    }

    /// A member ID as the JSON gateway writes it (a uint64 in a string), in decimal.
    static func memberID(_ value: Any?) -> String? {
        if let text = value as? String { return UInt64(text).map(String.init) }
        if let number = value as? NSNumber { return String(number.uint64Value) }
        return nil
    }
}
