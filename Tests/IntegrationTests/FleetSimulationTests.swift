import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("drctl-lab fleet: clusters' real agents over scripted databases on a 3-member etcd")
    struct FleetSimulationTests {
        struct Point: Decodable {
            var clusters: Int
            var agents: Int
            var failoverSeconds: [Double]
            var failoversMissed: Int
            var etcdRequestsPerSecond: Double
            var etcdWritesPerSecond: Double
            var commitP99Millis: Double?
            var unsettled: Int
        }

        @Test func twoClustersSettleAndALostPrimaryFailsOver() async throws {
            let run = try await CommandRunner.run(
                [try DrctlBinary.lab(), "fleet", "--clusters", "2", "--kills", "1", "--steady", "3s", "--json"], check: false)
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            let points = try JSONDecoder().decode([Point].self, from: Data(run.stdout.utf8))
            let point = try #require(points.first)
            #expect(point.clusters == 2 && point.agents == 6)
            #expect(point.unsettled == 0, "both clusters: a primary and two streaming standbys")
            #expect(point.failoverSeconds.count == 1 && point.failoversMissed == 0, "the lost primary's cluster failed over: \(run.stdout)")
            #expect(point.etcdRequestsPerSecond > 0 && point.etcdWritesPerSecond > 0, "measured from etcd's own metrics")
            #expect(point.commitP99Millis != nil)
        }
    }
}
