import DRSystem
import Foundation

/// Partitions between region hosts: nftables rules inside a region's namespace that drop
/// its traffic with other regions, as a cut fibre or a firewall would — the loopback lab's
/// `LabCut` kinds, told apart by port because every region has its own address here.
/// Local clients of the region still reach its database and its etcd member.
///
/// Connections a region opens to another pass through its latency relay (a redirect at
/// the nat hook, before these filter rules), so the outgoing rules see the relay's own
/// connection to the real address and port, and the incoming ones the peer relay's.
extension RegionHostsLab {
    /// The ports a cut of `kind` concerns (nil: every port).
    static func ports(_ kind: LabCut) -> [Int]? {
        switch kind {
        case .full: nil
        case .etcd: [2379, 2380]
        case .replication: [5432]
        case .agents: [agentPort]
        case .etcdAnswers: [2379]
        }
    }

    static func cutTable(_ kind: LabCut) -> String { "drctl_cut_" + kind.rawValue.replacing("-", with: "_") }

    /// The nftables script for a cut of `kind` between a region at `own` and `peers`.
    /// `oneWay` drops only what the region sends. `etcd-answers` is one way by nature: the
    /// answers of every etcd client port — the peers' and the region's own member's — are
    /// lost on arrival, while the region's requests still reach them.
    static func cutRules(_ kind: LabCut, own: String, peers: [String], oneWay: Bool) -> String {
        let table = cutTable(kind)
        let set = "{ \(peers.joined(separator: ", ")) }"
        var out: [String] = [], into: [String] = []
        switch (kind, ports(kind)) {
        case (.etcdAnswers, let ports?):
            into = ["ip saddr { \(([own] + peers).joined(separator: ", ")) } tcp sport { \(ports.map(String.init).joined(separator: ", ")) } drop"]
        case (_, nil):
            out = ["ip daddr \(set) drop"]
            into = oneWay ? [] : ["ip saddr \(set) drop"]
        case (_, let ports?):
            let list = "{ \(ports.map(String.init).joined(separator: ", ")) }"
            out = ["ip daddr \(set) tcp dport \(list) drop", "ip daddr \(set) tcp sport \(list) drop"]
            into = oneWay ? [] : ["ip saddr \(set) tcp dport \(list) drop", "ip saddr \(set) tcp sport \(list) drop"]
        }
        func chain(_ name: String, _ hook: String, _ rules: [String]) -> String {
            """
              chain \(name) {
                type filter hook \(hook) priority 0; policy accept;
            \(rules.map { "    " + $0 }.joined(separator: "\n"))
              }
            """
        }
        return """
            table inet \(table)
            delete table inet \(table)
            table inet \(table) {
            \(chain("out", "output", out))
            \(chain("in", "input", into))
            }

            """
    }

    /// Cuts `region` off from `peers` (every other region when nil) for the connections
    /// `kind` names. `oneWay` drops only what `region` sends: packets from the peers still
    /// arrive (a half-broken link).
    public func isolate(_ region: String, _ kind: LabCut = .full, from peers: [String]? = nil, oneWay: Bool = false) async throws {
        guard let own = hosts.hosts.first(where: { $0.region == region })?.address else { throw LabError.io("no region \(region) in this lab") }
        let others = hosts.hosts.filter { $0.region != region && (peers?.contains($0.region) ?? true) }.map(\.address)
        guard !others.isEmpty else { throw LabError.io("nothing to cut \(region) from: peers \(peers ?? []) are not other regions of this lab") }
        let file = "\(dir)/cut-\(region)-\(kind.rawValue).nft"
        try Self.cutRules(kind, own: own, peers: others, oneWay: oneWay).write(toFile: file, atomically: true, encoding: .utf8)
        _ = try await run(in: region, ["nft", "-f", file])
    }

    /// Removes `region`'s cut of `kind`, or all of its cuts when nil (nothing to do when
    /// there are none).
    public func heal(_ region: String, _ kind: LabCut? = nil) async throws {
        // Declare, then delete: one atomic script that works whether or not the cut exists,
        // and fails loudly otherwise (reading `nft list tables` first could miss a cut).
        let tables = (kind.map { [$0] } ?? LabCut.allCases).map(Self.cutTable)
        let script = tables.map { "table inet \($0)\ndelete table inet \($0)\n" }.joined()
        let file = "\(dir)/heal-\(region).nft"
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        _ = try await run(in: region, ["nft", "-f", file])
    }
}
