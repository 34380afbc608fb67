import DRCore
import Testing

/// DESIGN.md's scenario table, run through `decide` on a simulated clock. The
/// documents' objectives are the ceiling; the lab settings (1 s checks, 3 failures,
/// 5 s lease) must do far better, and no step may ever have two writable primaries.
@Suite struct FailoverScenarioTests {
    static let policy: FailoverPolicy = {
        var policy = FailoverPolicy(failuresInARow: 3, rpo: .seconds(5), cooldown: .seconds(300), fencingMargin: .seconds(1),
                                    betterCandidateWait: .seconds(3))
        policy.dnsRecords = [DNSBinding(record: "db.example.com.", target: .primary)]
        return policy
    }()

    @Test func bootstrapsWithThePrimaryHoldingTheKey() {
        let simulation = FailoverSimulation.started(policy: Self.policy)
        #expect(simulation.leader?.node == "a")
        #expect(simulation.promotedAt == nil && simulation.fencedAt == nil)
    }

    @Test func primarySiteDown() throws {
        var simulation = FailoverSimulation.started(policy: Self.policy)
        simulation.run(until: .seconds(60), fault: .wholeNodeLost)
        let promoted = try #require(simulation.promotedAt)
        #expect(promoted - .seconds(20) <= .seconds(7), "lease TTL plus one standby tick; the documents allow 7 min")
        #expect(simulation.leader?.node == "b")
        #expect(simulation.dnsRecord == "b" && simulation.dnsWrites.last?.at == promoted, "DNS switched in the promoting decision")
        #expect(simulation.nodes[1].lsn >= simulation.lastPrimary.map { $0.lsn.value } ?? .max, "nothing the primary published is lost")
        #expect(simulation.maxWritable == 1)
    }

    @Test func databaseFailureWithAgentAlive() throws {
        var simulation = FailoverSimulation.started(policy: Self.policy)
        simulation.run(until: .seconds(60), fault: .databaseCrash)
        let promoted = try #require(simulation.promotedAt)
        #expect(promoted - .seconds(20) <= .seconds(5), "3 failed checks, release, next standby tick; the documents allow 4 min")
        #expect(simulation.nodes[0].db == .fenced, "the crashed primary cannot come back writable")
        #expect(simulation.maxWritable == 1)
    }

    @Test func regionOutageFencesTheOldPrimaryBeforeTheNewOneStarts() throws {
        var simulation = FailoverSimulation.started(policy: Self.policy)
        simulation.run(until: .seconds(60), fault: .regionPartitioned)
        let promoted = try #require(simulation.promotedAt)
        let fenced = try #require(simulation.fencedAt)
        #expect(fenced < promoted, "the partitioned primary stops before the standby is promoted")
        #expect(promoted - .seconds(20) <= .seconds(8), "the documents allow 35 min")
        #expect(simulation.nodes[0].db == .fenced)
        #expect(simulation.maxWritable == 1)
        #expect(simulation.dnsRecord == "b", "DNS follows the new primary")
        #expect(!simulation.dnsWrites.contains { $0.by == "a" && $0.at > .seconds(20) }, "the partitioned old primary never writes DNS")
    }

    @Test func completeDisasterPromotesNothing() {
        var simulation = FailoverSimulation.started(policy: Self.policy)
        simulation.run(until: .seconds(60), fault: .bothNodesLost)
        #expect(simulation.promotedAt == nil)
        #expect(simulation.leader == nil, "the lease expires; recovery is a restore in the cold region")
        #expect(simulation.maxWritable == 1)
    }

    @Test func standbyBeyondTheRPOWaitsForAnOperator() {
        var simulation = FailoverSimulation.started(policy: Self.policy)
        simulation.run(until: .seconds(20), fault: .replicationBroken, at: .seconds(10))
        simulation.run(until: .seconds(60), fault: .wholeNodeLost)
        #expect(simulation.promotedAt == nil)
        #expect(simulation.holds.contains { $0.contains("manual intervention required") })
    }

    @Test func flappingHealthCheckBelowTheThresholdNeverFailsOver() {
        var simulation = FailoverSimulation.started(policy: Self.policy)
        simulation.run(until: .seconds(600), fault: .flappingChecks, at: .seconds(10))
        #expect(simulation.promotedAt == nil && simulation.fencedAt == nil)
        #expect(simulation.leader?.node == "a")
    }
}
