import DRCoordination
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

/// Issue 17 in the lab: etcd stopped with every node healthy is no write outage with
/// failsafe on; a primary cut off from everyone is still fenced while etcd is down; and a
/// 3-member etcd losing its leader moves nothing.
extension RealServers {
    @Suite("failsafe and etcd outages in the lab")
    struct FailsafeIntegrationTests {
        @Test func writesContinueWhileEtcdIsDownAndItsReturnIsNoFailover() async throws {
            try await withLab(failover: LabFailoverSettings(failsafe: true)) { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                #expect(try lab.config().failover.failsafeSecret != nil, "the lab's agents sign their requests")
                #expect(try await eventually { try await etcd.snapshot().failsafe?.members == ["pg1", "pg2"] }, "the leader lists its members")
                let before = try #require(try await etcd.leader())
                let pg1 = try lab.node("pg1")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { _ = try await $0.query("CREATE TABLE w (id int PRIMARY KEY)") }
                let clock = ContinuousClock()
                async let acknowledged = WriteLoad.run(conninfo: pg1.conninfo, table: "w", until: clock.now + .seconds(16))
                try await Task.sleep(for: .seconds(2))
                try await lab.etcd[0].stop()
                let stopped = clock.now
                try await Task.sleep(for: .seconds(4))
                let status = try await CommandRunner.run([try DrctlBinary.path(), "status", "--json", "--config", lab.configFile], check: false)
                let report = try JSONDecoder().decode(StatusReport.self, from: Data(status.stdout.utf8))
                #expect(report.failsafe?.leader == "pg1" && report.failsafe?.confirmedBy == ["pg2"], "\(status.stdout)")
                #expect(report.problems.contains { $0.contains("running in failsafe") }, "\(report.problems)")
                try await Task.sleep(for: .seconds(4))
                try await lab.etcd[0].start()
                let back = clock.now
                let acks = await acknowledged
                // Without failsafe pg1 fences 1.5 s after its last renewal (lease TTL 2 s): the
                // writes of the outage's last seconds are the ones failsafe kept.
                let outage = acks.filter { $0 > stopped && $0 < back }
                #expect(outage.filter { $0 > stopped + .seconds(3) }.count >= 20, "writes acknowledged while etcd was down: \(outage.count)")
                let pauses = zip(outage.dropFirst(), outage).map { $0 - $1 }
                #expect((pauses.max() ?? .zero) < .seconds(2), "no pause as long as the lease TTL: longest \(pauses.max() ?? .zero)")

                #expect(
                    try await eventually(within: .seconds(20)) {
                        let leader = try await etcd.leader()?.node
                        let episodes = try await etcd.failsafeEpisodes()
                        return leader == "pg1" && !episodes.isEmpty
                    })
                #expect(try await etcd.leader()?.node == before.node)
                #expect(try await etcd.history().isEmpty, "no failover")
                let episode = try #require(try await etcd.failsafeEpisodes().first)
                #expect(episode.leader == "pg1" && episode.confirmedBy == ["pg2"] && episode.seconds > 5, "\(episode)")
                #expect(try await lab.status().nodes.first { $0.name == "pg1" }?.timeline == 1, "no promotion: still the first timeline")
            }
        }

        /// etcd down for everyone, then the primary's region isolated (etcd, replication and
        /// the agents' APIs): its members no longer confirm it, so it stops acknowledging at
        /// its lease deadline, and pg2 is promoted only once etcd is back.
        @Test func anIsolatedPrimaryIsFencedEvenWhileEtcdIsDown() async throws {
            try await withLab(failover: LabFailoverSettings(failsafe: true)) { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                #expect(try await eventually { try await etcd.snapshot().failsafe?.members == ["pg1", "pg2"] })
                let clock = ContinuousClock()
                var stopped = clock.now, isolated = clock.now
                let (old, new) = try await WriteLoad.acrossHandover(lab, for: .seconds(26)) {
                    try await lab.etcd[0].stop()
                    stopped = clock.now
                    try await Task.sleep(for: .seconds(3))
                    try await Lab.isolate(dir: lab.dir, region: "region1")
                    isolated = clock.now
                    try await Task.sleep(for: .seconds(5))
                    try await lab.etcd[0].start()
                }
                #expect(old.contains { $0 > stopped + .seconds(2.5) && $0 < isolated }, "failsafe kept pg1 writable until the isolation")
                let lastOld = try #require(old.last)
                let firstNew = try #require(new.first, "pg2 is promoted once etcd is back")
                #expect(lastOld < firstNew, "pg1 stopped acknowledging before pg2 started")
                #expect(lastOld - isolated < .seconds(2), "pg1 stopped within the lease TTL of losing its members")
                try await Lab.heal(dir: lab.dir, region: "region1")
            }
        }

        /// A 3-member etcd loses its leader (SIGKILL): a new etcd leader is elected, the
        /// lease is kept, and the primary never stops acknowledging for as long as a TTL.
        /// The lease must outlive an election plus a loop (README, "Recommended settings":
        /// up to 1.5 s measured on loopback, more on a loaded CI host), so this lab's lease is
        /// 4 s (deadline 3.5 s) rather than the 2 s (deadline 1.5 s) other lab tests use.
        @Test func losingTheEtcdLeaderOfThreeMembersIsNoFailover() async throws {
            try await withLab(etcdMembers: 3, failover: LabFailoverSettings(leaseTTL: "4s")) { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                #expect(try await eventually { try await etcd.leader()?.node == "pg1" })
                let before = try #require(try await etcd.leader())
                let pg1 = try lab.node("pg1")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { _ = try await $0.query("CREATE TABLE w (id int PRIMARY KEY)") }
                let clock = ContinuousClock()
                let end = clock.now + .seconds(12)
                async let acknowledged = WriteLoad.run(conninfo: pg1.conninfo, table: "w", until: end)
                try await Task.sleep(for: .seconds(3))
                let killed = try #require(await EtcdServer.leader(of: lab.etcd), "etcd reports a leader")
                kill(try #require(killed.pid), SIGKILL)
                let acks = await acknowledged
                try await killed.start()
                // From the start to the end, so a fence that ended the writes counts as a pause.
                let instants = [end - .seconds(12)] + acks + [end]
                let pauses = zip(instants.dropFirst(), instants).map { $0 - $1 }
                #expect((pauses.max() ?? .zero) < .seconds(3), "longest write pause \(pauses.max() ?? .zero) (lease deadline 3.5 s)")
                #expect(try await etcd.leader() == before, "same holder, same term: the lease was kept")
                #expect(try await etcd.history().isEmpty, "no failover")
            }
        }
    }
}
