import DRSystem
import Foundation

/// Partitions between region hosts: nftables rules inside a region's namespace that drop
/// its traffic with other regions — everything the host sends or receives, as a cut fibre
/// or a firewall would. Local clients of the region still reach its database.
extension RegionHostsLab {
    static let cutTable = "drctl_cut"

    /// Cuts `region` off from `peers` (every other region when nil). `oneWay` drops only
    /// what `region` sends: packets from the peers still arrive (a half-broken link).
    public func isolate(_ region: String, from peers: [String]? = nil, oneWay: Bool = false) async throws {
        guard hosts.hosts.contains(where: { $0.region == region }) else { throw LabError.io("no region \(region) in this lab") }
        let others = hosts.hosts.filter { $0.region != region && (peers?.contains($0.region) ?? true) }.map(\.address)
        guard !others.isEmpty else { throw LabError.io("nothing to cut \(region) from: peers \(peers ?? []) are not other regions of this lab") }
        let set = "{ \(others.joined(separator: ", ")) }"
        let rules = """
            table inet \(Self.cutTable)
            delete table inet \(Self.cutTable)
            table inet \(Self.cutTable) {
              chain out {
                type filter hook output priority 0; policy accept;
                ip daddr \(set) drop
              }
              chain in {
                type filter hook input priority 0; policy accept;
            \(oneWay ? "" : "    ip saddr \(set) drop")
              }
            }

            """
        let file = "\(dir)/cut-\(region).nft"
        try rules.write(toFile: file, atomically: true, encoding: .utf8)
        try await run(in: region, ["nft", "-f", file])
    }

    /// Removes `region`'s cuts (nothing to do when there are none).
    public func heal(_ region: String) async throws {
        let listed = try await run(in: region, ["nft", "list", "tables"], check: false).stdout
        guard listed.contains("table inet \(Self.cutTable)") else { return }
        try await run(in: region, ["nft", "delete", "table", "inet", Self.cutTable])
    }
}
