import DRSystem
import Foundation

/// Network partitions in the lab with nftables (root only): `isolate` cuts a region's
/// agent off from etcd and stops replication between the lab's databases (or one of the
/// two, or only etcd's answers: see `LabCut`), while clients on the host still reach the
/// region's database — as clients inside that region would.
///
/// How traffic is told apart on one loopback: each agent sends its etcd traffic from its
/// region's address (`--source-address`), and only PostgreSQL's own processes (user
/// `postgres`: WAL receivers) connect to other databases. Those connections are marked
/// in conntrack and dropped both ways. With the lab's two database nodes this cuts
/// exactly the isolated region's replication.
enum LabNetwork {
    /// The prefix of every nftables table this lab installs.
    static func tablePrefix(_ state: LabState) -> String { "drctl_\(StableHash.hex(state.dir))_" }

    static func tableName(_ state: LabState, _ region: String, _ cut: LabCut = .full) -> String {
        tablePrefix(state) + region.replacing("-", with: "_") + (cut == .full ? "" : "_" + cut.rawValue.replacing("-", with: "_"))
    }

    static func isolate(_ state: LabState, region: String, _ cut: LabCut = .full) async throws {
        guard getuid() == 0 else { throw LabError.io("lab isolate needs root (it installs nftables rules)") }
        guard let address = state.nodes.first(where: { $0.region == region })?.host else {
            throw LabError.io("region \(region) has no lab node to isolate (regions with nodes: \(Set(state.nodes.map(\.region)).sorted().joined(separator: ", ")))")
        }
        let table = tableName(state, region, cut)
        let databases = state.nodes.map { "\($0.host) . \($0.port)" }.joined(separator: ", ")
        let etcd = state.etcd.flatMap { ["\($0.host) . \($0.clientPort)", "\($0.host) . \($0.peerPort)"] }.joined(separator: ", ")
        var rules: [String] = []
        if cut == .full || cut == .etcd { rules.append("ip saddr \(address) ip daddr . tcp dport { \(etcd) } drop") }
        if cut == .etcdAnswers { rules.append("ip daddr \(address) ip saddr . tcp sport { \(etcd) } drop") }
        if cut == .full || cut == .replication {
            rules += ["meta skuid \"postgres\" ip daddr . tcp dport { \(databases) } ct mark set 0x2a", "ct mark 0x2a drop"]
        }
        // The agents' APIs (failsafe confirmations): its agent reaches no other, none reaches it.
        let own = state.agents.filter { $0.region == region }.map { "\($0.apiHost) . \($0.apiPort)" }
        let others = state.agents.filter { $0.region != region }.map { "\($0.apiHost) . \($0.apiPort)" }
        if cut == .full || cut == .agents {
            if !others.isEmpty { rules.append("ip saddr \(address) ip daddr . tcp dport { \(others.joined(separator: ", ")) } drop") }
            if !own.isEmpty { rules.append("ip saddr != \(address) ip daddr . tcp dport { \(own.joined(separator: ", ")) } drop") }
        }
        let text = """
            table inet \(table) {
              chain out {
                type filter hook output priority 0; policy accept;
            \(rules.map { "    " + $0 }.joined(separator: "\n"))
              }
            }

            """
        let file = "\(state.dir)/\(table).nft"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        try await CommandRunner.run(["nft", "-f", file])
    }

    static func heal(_ state: LabState, region: String, _ cut: LabCut = .full) async throws {
        let table = tableName(state, region, cut)
        let listed = try await CommandRunner.run(["nft", "list", "tables"], check: false)
        guard listed.stdout.contains("table inet \(table)\n") || listed.stdout.hasSuffix("table inet \(table)") else { return }
        try await CommandRunner.run(["nft", "delete", "table", "inet", table])
    }

    /// Removes every partition of this lab (lab down), whichever kind.
    static func healAll(_ state: LabState) async {
        guard getuid() == 0, (try? CommandRunner.resolve("nft")) != nil,
            let listed = try? await CommandRunner.run(["nft", "list", "tables"], check: false)
        else { return }
        let prefix = tablePrefix(state)
        for line in listed.stdout.split(separator: "\n") {
            guard let table = line.split(separator: " ").last.map(String.init), table.hasPrefix(prefix) else { continue }
            _ = try? await CommandRunner.run(["nft", "delete", "table", "inet", table], check: false)
        }
    }
}

/// Which of a region's connections a partition cuts.
public enum LabCut: String, Sendable, Codable, CaseIterable {
    /// Its agent from etcd and from the other agents' APIs, and replication to and from its database.
    case full
    /// Only its agent from etcd (replication flows).
    case etcd
    /// Only replication to and from its database (its agent reaches etcd).
    case replication
    /// One way: etcd's answers to its agent are lost; its requests still arrive (a renewal
    /// may be applied without the agent knowing).
    case etcdAnswers = "etcd-answers"
    /// Only the agents' APIs: its agent reaches no other agent and none reaches it (a
    /// failsafe leader loses its members' confirmations; etcd and replication flow).
    case agents
}

extension Lab {
    public static func isolate(dir: String, region: String, _ cut: LabCut = .full) async throws {
        try await LabNetwork.isolate(LabState.load(dir: absolute(dir)), region: region, cut)
    }

    public static func heal(dir: String, region: String, _ cut: LabCut = .full) async throws {
        try await LabNetwork.heal(LabState.load(dir: absolute(dir)), region: region, cut)
    }
}
