import DRCommandLine
import DRCoordination
import DRCore
import Foundation

/// `drctl status --all`: the fleet under one etcd prefix, a line per cluster.
extension StatusCommand {
    func fleet(_ config: ClusterConfig) async throws {
        let etcd: EtcdCoordinator
        let clusters: [(cluster: String, snapshot: CoordinationSnapshot, last: FailoverEvidence?)]
        do {
            etcd = try EtcdCoordinator.forConfig(config)
            clusters = try await etcd.fleet()
        } catch {
            throw CLIExit.failed("cannot read the clusters from etcd: \(error)")
        }
        let fleet = FleetStatus(clusters: clusters.map { FleetStatus.row(cluster: $0.cluster, snapshot: $0.snapshot, lastFailover: $0.last) })
        if options.json {
            try JSONOutput.print(fleet)
        } else {
            let rows = fleet.clusters.map { row -> [String] in
                let verdict: String = row.verdict.rawValue + (row.paused ? " (paused)" : "")
                let term: String = row.term.map { String($0) } ?? "-"
                let lag: String = row.maxLagBytes.map { StatusTable.bytes($0) } ?? "-"
                return [row.cluster, verdict, row.leader ?? "-", term, lag, row.lastFailover ?? "-"]
            }
            print("\(fleet.clusters.count) cluster(s) under \(etcd.fleetRoot):\n")
            print(TextTable.render(["CLUSTER", "VERDICT", "LEADER", "TERM", "MAX LAG", "LAST FAILOVER"], rows))
            for row in fleet.clusters where !row.problems.isEmpty {
                print("! \(row.cluster): " + row.problems.joined(separator: "; "))
            }
        }
        if !fleet.isHealthy { throw CLIExit.unhealthy }
    }
}
