import DRCoordination
import DRCore
import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("drctl status --all over a fleet's etcd prefix")
    struct FleetStatusIntegrationTests {
        @Test func everyClusterUnderThePrefixGetsALine() async throws {
            try await withLab { lab in
                let drctl = try DrctlBinary.path()
                let ready = try await eventually(within: .seconds(10)) { try await lab.status().verdict == .healthy }
                #expect(ready)
                // A second cluster's agents, as another cluster beside the lab's would publish.
                let config = try lab.config()
                let parent = try EtcdCoordinator.forConfig(config).fleetRoot
                let gateway = EtcdGateway(endpoints: config.coordination.endpoints)
                let other = EtcdCoordinator(gateway: gateway, prefix: parent + "billing/")
                let lease = try await other.grantLease(ttl: .seconds(60))
                _ = try await other.acquireLeadership(node: "b1", lease: lease)
                try await other.publish(
                    MemberRecord(
                        name: "b1", region: "r", role: .primary, timeline: 1, lsn: nil, replayLSN: nil, lagBytes: nil, healthy: true, failedChecks: 0,
                        publishedAtMillis: 0), lease: lease)
                try await other.publish(
                    MemberRecord(
                        name: "b2", region: "r", role: .down, timeline: 1, lsn: nil, replayLSN: nil, lagBytes: nil, healthy: false, failedChecks: 3,
                        publishedAtMillis: 0), lease: lease)
                let text = try await CommandRunner.run([drctl, "status", "--all", "--config", lab.configFile], check: false)
                #expect(text.status == 1, "billing is degraded: \(text.stdout)\(text.stderr)")
                #expect(text.stdout.contains("2 cluster(s) under \(parent)") && text.stdout.contains("! billing: b2 is down, not a healthy standby"), "\(text.stdout)")
                let json = try await CommandRunner.run([drctl, "status", "--all", "--json", "--config", lab.configFile], check: false)
                let fleet = try JSONDecoder().decode(FleetStatus.self, from: Data(json.stdout.utf8))
                #expect(fleet.clusters.map(\.cluster) == ["billing", "lab"])
                #expect(fleet.clusters.map(\.verdict) == [.degraded, .healthy] && fleet.clusters.last?.leader == "pg1")
            }
        }
    }
}
