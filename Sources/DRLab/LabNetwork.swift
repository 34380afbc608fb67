import DRSystem
import Foundation

/// Network partitions in the lab with nftables (root only): `isolate` cuts a region's
/// agent off from etcd and stops replication between the lab's databases, while clients
/// on the host still reach the region's database — as clients inside that region would.
///
/// How traffic is told apart on one loopback: each agent sends its etcd traffic from its
/// region's address (`--source-address`), and only PostgreSQL's own processes (user
/// `postgres`: WAL receivers) connect to other databases. Those connections are marked
/// in conntrack and dropped both ways. With the lab's two database nodes this cuts
/// exactly the isolated region's replication.
enum LabNetwork {
    static func tableName(_ state: LabState, _ region: String) -> String {
        "drctl_\(StableHash.hex(state.dir))_\(region.replacing("-", with: "_"))"
    }

    static func isolate(_ state: LabState, region: String) async throws {
        guard getuid() == 0 else { throw LabError.io("lab isolate needs root (it installs nftables rules)") }
        guard let address = state.nodes.first(where: { $0.region == region })?.host else {
            throw LabError.io("region \(region) has no lab node to isolate (regions with nodes: \(Set(state.nodes.map(\.region)).sorted().joined(separator: ", ")))")
        }
        let table = tableName(state, region)
        let databases = state.nodes.map { "\($0.host) . \($0.port)" }.joined(separator: ", ")
        let etcd = state.etcd.flatMap { ["\($0.host) . \($0.clientPort)", "\($0.host) . \($0.peerPort)"] }.joined(separator: ", ")
        let rules = """
            table inet \(table) {
              chain out {
                type filter hook output priority 0; policy accept;
                ip saddr \(address) ip daddr . tcp dport { \(etcd) } drop
                meta skuid "postgres" ip daddr . tcp dport { \(databases) } ct mark set 0x2a
                ct mark 0x2a drop
              }
            }

            """
        let file = "\(state.dir)/\(table).nft"
        try rules.write(toFile: file, atomically: true, encoding: .utf8)
        try await CommandRunner.run(["nft", "-f", file])
    }

    static func heal(_ state: LabState, region: String) async throws {
        let table = tableName(state, region)
        let listed = try await CommandRunner.run(["nft", "list", "tables"], check: false)
        guard listed.stdout.contains("table inet \(table)") else { return }
        try await CommandRunner.run(["nft", "delete", "table", "inet", table])
    }

    /// Removes every partition of this lab (lab down).
    static func healAll(_ state: LabState) async {
        guard getuid() == 0, (try? CommandRunner.resolve("nft")) != nil else { return }
        for region in Set(state.nodes.map(\.region)) { try? await heal(state, region: region) }
    }
}

extension Lab {
    public static func isolate(dir: String, region: String) async throws {
        try await LabNetwork.isolate(LabState.load(dir: absolute(dir)), region: region)
    }

    public static func heal(dir: String, region: String) async throws {
        try await LabNetwork.heal(LabState.load(dir: absolute(dir)), region: region)
    }
}
