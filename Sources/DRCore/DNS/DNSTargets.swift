/// Which node each managed record should point at, and the record set that means: a pure
/// function of the configuration and the cluster as etcd shows it, shared by the leader's
/// agent (what to switch) and `drctl dns status` (what should be).
public enum DNSTargets {
    /// What one record should be, or why that is unknown.
    public struct Desired: Sendable, Equatable {
        public var record: DNSRecordConfig
        /// The node the record should point at; nil when no node qualifies (no leader).
        public var node: String?
        /// The record set for `node`; nil with `problem` when it cannot be built.
        public var recordSet: DNSRecordSet?
        public var problem: String?
    }

    /// The node a record should point at: for `primary`, the leader; for `region:R`, R's
    /// primary if it runs there, else R's most caught-up healthy standby, else (the region
    /// is down) the leader, so application endpoints move to the region that serves.
    public static func node(for target: RecordTarget, leader: String?, members: [MemberRecord]) -> String? {
        switch target {
        case .primary:
            return leader
        case .region(let region):
            let healthy = members.filter { $0.region == region && $0.healthy && ($0.role == .primary || $0.role == .standby) }
            if let primary = healthy.first(where: { $0.role == .primary && $0.name == leader }) { return primary.name }
            let best = healthy.filter { $0.role == .standby }.max { ($0.lsn ?? LSN(0), $1.name) < ($1.lsn ?? LSN(0), $0.name) }
            return best?.name ?? leader
        }
    }

    /// The record set pointing `record` at `node`: the node's `address` (which must suit
    /// the record type).
    public static func recordSet(_ record: DNSRecordConfig, pointingAt node: NodeConfig) -> Result<DNSRecordSet, DNSTargetError> {
        guard let address = node.address else {
            return .failure(DNSTargetError(message: "node \(node.name) has no `address` for record \(record.name) to point at"))
        }
        let isIPv4 = IPAddressText.isIPv4(address), isIPv6 = IPAddressText.isIPv6(address)
        switch record.type {
        case .a where !isIPv4, .aaaa where !isIPv6:
            return .failure(DNSTargetError(message: "record \(record.name) is \(record.type.rawValue) but node \(node.name)'s address \(address) is not an IPv\(record.type == .a ? 4 : 6) address"))
        case .cname where isIPv4 || isIPv6:
            return .failure(DNSTargetError(message: "record \(record.name) is a CNAME but node \(node.name)'s address \(address) is an IP address, not a host name"))
        default:
            return .success(DNSRecordSet(name: record.name, type: record.type, ttlSeconds: Int(record.ttl.seconds), values: [address]))
        }
    }

    public static func desired(_ config: ClusterConfig, leader: String?, members: [MemberRecord]) -> [Desired] {
        config.dns.records.map { record in
            guard let name = node(for: record.target, leader: leader, members: members) else {
                return Desired(record: record, node: nil, recordSet: nil, problem: "no leader: nothing to point \(record.name) at")
            }
            guard let node = config.node(named: name)?.node else {
                return Desired(record: record, node: name, recordSet: nil, problem: "\(name) is not a node of this configuration")
            }
            switch recordSet(record, pointingAt: node) {
            case .success(let set): return Desired(record: record, node: name, recordSet: set, problem: nil)
            case .failure(let error): return Desired(record: record, node: name, recordSet: nil, problem: error.message)
            }
        }
    }
}

public struct DNSTargetError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
