/// What `drctl init` found on a running cluster, read-only: the primary, the standbys it was
/// told about, and whatever else streams from the primary.
public struct DiscoveredCluster: Sendable, Equatable {
    public struct Node: Sendable, Equatable {
        /// The name drctl will use (the standby's application_name when it is a valid name).
        public var name: String
        public var conninfo: String
        public var inRecovery: Bool
        /// The server's data_directory (nil: not readable by this role).
        public var dataDirectory: String?
        /// A standby's upstream host, from its WAL receiver (nil: not streaming).
        public var upstreamHost: String?
        public var slotName: String?

        public init(name: String, conninfo: String, inRecovery: Bool, dataDirectory: String?, upstreamHost: String?, slotName: String?) {
            self.name = name
            self.conninfo = conninfo
            self.inRecovery = inRecovery
            self.dataDirectory = dataDirectory
            self.upstreamHost = upstreamHost
            self.slotName = slotName
        }
    }

    /// One row of the primary's pg_stat_replication.
    public struct Replica: Sendable, Equatable {
        public var applicationName: String
        public var clientAddress: String?
        public var state: String
        public var syncState: String

        public init(applicationName: String, clientAddress: String?, state: String, syncState: String) {
            self.applicationName = applicationName
            self.clientAddress = clientAddress
            self.state = state
            self.syncState = syncState
        }
    }

    public var primary: Node
    public var standbys: [Node]
    public var replicas: [Replica]
    public var slots: [String]
    public var synchronousStandbyNames: String
    public var archiveCommand: String
    public var walLogHints: Bool
    public var dataChecksums: Bool

    public init(
        primary: Node, standbys: [Node], replicas: [Replica], slots: [String], synchronousStandbyNames: String, archiveCommand: String, walLogHints: Bool,
        dataChecksums: Bool
    ) {
        self.primary = primary
        self.standbys = standbys
        self.replicas = replicas
        self.slots = slots
        self.synchronousStandbyNames = synchronousStandbyNames
        self.archiveCommand = archiveCommand
        self.walLogHints = walLogHints
        self.dataChecksums = dataChecksums
    }
}

/// The commented starting configuration `drctl init` writes for a discovered cluster: one
/// region per node (the primary's first), what was found said in comments beside the keys
/// it decided, and what it could not know left for the operator with a pointer to the
/// reference configuration. It loads as written (`drctl config check`).
public enum InitialConfig {
    /// An etcd member as its member list names it, with the hosts of its client URLs.
    public struct EtcdMember: Sendable, Equatable {
        public var name: String
        public var hosts: [String]
        public init(name: String, hosts: [String]) {
            self.name = name
            self.hosts = hosts
        }
    }

    /// What init learnt of etcd's members: the list, or why it could not be read.
    public enum EtcdMembers: Sendable, Equatable {
        case read([EtcdMember])
        case unread(String)
    }

    /// - Parameter etcdMembers: etcd's member list: a region whose node shares its host with
    ///   exactly one member gets that member as `etcd_member` (the leader's agent keeps
    ///   etcd's leader out of the primary's region); otherwise the candidates are a comment.
    public static func render(cluster: String, discovered: DiscoveredCluster, etcd: [String], etcdMembers: EtcdMembers? = nil) -> String {
        let nodes = [discovered.primary] + discovered.standbys
        var lines: [String] = [
            "# Written by `drctl init` from the running cluster; nothing on it was changed.",
            "# Every key is explained in \(ConfigKeys.reference).",
            "# Review the region names, the objectives and the etcd endpoints, then: drctl config check && drctl preflight",
            "cluster: \(cluster)",
            "objectives:",
            "  rto: 60s  # the longest write outage a failover may take: set yours",
            "  rpo: \(isSynchronous(discovered) ? "0s   # synchronous replication found" : "5s   # asynchronous replication: set the data loss you accept")",
            "coordination:",
            "  endpoints: [\(etcd.joined(separator: ", "))]",
            "  lease_ttl: 5s  # measured across regions 20-100 ms apart (docs/failsafe.md)",
            "health:",
            "  interval: 1s",
            "  failures: 3",
            "  timeout: 500ms",
            "failover:",
            "  synchronous: \(isSynchronous(discovered))  # synchronous_standby_names = '\(discovered.synchronousStandbyNames)'",
            "  auto_rejoin: false  # pg_rewind \(discovered.walLogHints || discovered.dataChecksums ? "can run (wal_log_hints or checksums on)" : "cannot run yet: set wal_log_hints = on first")",
            "regions:",
        ]
        for (index, node) in nodes.enumerated() {
            let role = index == 0 ? "primary" : "hot-standby"
            lines += [
                "  - name: region\(index + 1)  # rename: where \(node.name) runs",
                "    role: \(role)",
                "    priority: \(max(10, 100 - index * 10))",
                "    nodes:",
                "      - name: \(node.name)",
                "        conninfo: \"\(node.conninfo.replacing("\"", with: "\\\""))\"",
            ]
            if let line = etcdMemberLine(for: node, among: nodes, etcdMembers) { lines.insert(line, at: lines.count - 3) }
            if let dataDirectory = node.dataDirectory { lines.append("        data_dir: \(dataDirectory)") }
            if index > 0 {
                let streaming = node.upstreamHost.map { "streams from \($0)" } ?? "NOT streaming"
                let slot = node.slotName.map { "slot \($0)" } ?? "no slot"
                lines[lines.count - 1] += "  # \(streaming), \(slot)"
            }
        }
        let managed = Set(nodes.map(\.name))
        let unmanaged = discovered.replicas.filter { !managed.contains($0.applicationName) }
        for replica in unmanaged {
            lines.append(
                "# also streaming from the primary, not managed: \(replica.applicationName) from \(replica.clientAddress ?? "a local socket") (\(replica.state), \(replica.syncState)); run init with --standby for it"
            )
        }
        let wanted = Set(nodes.dropFirst().map { $0.name.replacing("-", with: "_") })
        let foreignSlots = discovered.slots.filter { !wanted.contains($0) }
        if !foreignSlots.isEmpty {
            lines.append("# the primary's other replication slots (drctl keeps one per node, named after it): \(foreignSlots.joined(separator: ", "))")
        }
        if discovered.archiveCommand.contains("wal-push") {
            lines.append("# archive_command runs drctl wal-push: add the backup section (repository, repository_region, allowed_regions).")
        } else {
            lines.append(
                "# archive_command is '\(discovered.archiveCommand)': drctl's backups and point-in-time restore need 'drctl wal-push %p %f --config FILE' and a backup section.")
        }
        lines.append("# DNS records drctl should switch: add a dns section (providers, records).")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The region's `etcd_member` line: the one member on the node's host when no other
    /// node shares that host (on one host, as in a lab, regions are not places), or a comment.
    static func etcdMemberLine(for node: DiscoveredCluster.Node, among nodes: [DiscoveredCluster.Node], _ members: EtcdMembers?) -> String? {
        switch members {
        case nil:
            return nil
        case .unread(let reason):
            return "    # etcd_member: the etcd member in this region (etcd's member list could not be read: \(reason))"
        case .read(let members):
            guard let host = try? Conninfo.parse(node.conninfo).host else { return nil }
            let here = members.filter { $0.hosts.contains(host) }
            let sharing = nodes.filter { $0.name != node.name && (try? Conninfo.parse($0.conninfo).host) == host }
            if here.count == 1, let member = here.first, sharing.isEmpty { return "    etcd_member: \(member.name)  # etcd's member on \(host), as \(node.name)" }
            let names = members.map(\.name).sorted().joined(separator: ", ")
            let why = here.isEmpty ? "none runs on \(host)" : !sharing.isEmpty ? "\(host) also runs \(sharing.map(\.name).joined(separator: ", "))" : "several run on \(host)"
            return "    # etcd_member: the etcd member in this region, one of \(names) (\(why))"
        }
    }

    static func isSynchronous(_ discovered: DiscoveredCluster) -> Bool {
        discovered.synchronousStandbyNames.contains { !$0.isWhitespace }
    }

    /// A drctl node name from `text` (an application_name or a host): lower case, other
    /// characters as '-', at most 63; "node" when nothing is left.
    public static func nodeName(_ text: String) -> String {
        let mapped = String(text.lowercased().map { ($0.isLetter || $0.isNumber) && $0.isASCII ? $0 : "-" }.prefix(63))
        let trimmed = mapped.drop { $0 == "-" }.reversed().drop { $0 == "-" }.reversed()
        return trimmed.isEmpty ? "node" : String(trimmed)
    }
}
