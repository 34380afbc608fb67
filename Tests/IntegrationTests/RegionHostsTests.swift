import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    /// The etcd of a cross-region deployment: one member per region namespace, 40 ms between
    /// regions, probed from region1 as a leader's agent uses it (read, renew, every 100 ms).
    @Suite("etcd across region namespaces", .tags(.root), .needsRoot)
    struct RegionEtcdTests {
        @Test func anEtcdAcrossRegionsKeepsALeaseThroughItsLeadersLoss() async throws {
            let dir = "/tmp/drctl-regions-\(UUID().uuidString.prefix(8).lowercased())"
            let binary = try DrctlBinary.path()
            let lab = try await RegionHostsLab.up(dir: dir, binary: binary, latency: .milliseconds(40))
            let pids = lab.members.compactMap(\.pid)
            #expect(pids.count == 3)
            do {
                let probe = [try DrctlBinary.lab(), "regions", "probe", "--endpoints", lab.endpoints().joined(separator: ",")]
                let quiet = try report(try await lab.run(in: "region1", probe + ["--duration", "2s"]).stdout)
                #expect(quiet.failures == 0, "\(quiet.errors)")
                // A linearizable read needs a quorum's answer: at least one inter-region round trip.
                #expect(quiet.percentiles.median >= 40, "the relays add 40 ms between regions: \(quiet.loopMillis)")

                // The same loop while etcd's raft leader is killed: the lease outlives the election.
                let log = "\(dir)/probe.log"
                let running = try ProcessControl.spawnDaemon(
                    ["ip", "netns", "exec", try #require(lab.namespace("region1"))] + probe + ["--duration", "8s"], logFile: log)
                try await Task.sleep(for: .seconds(2))
                let raftLeader = try #require(await EtcdServer.leader(of: lab.members))
                kill(try #require(raftLeader.pid), SIGKILL)
                #expect(await ProcessControl.waitForExit(running, within: .seconds(30)))
                let text = try String(contentsOfFile: log, encoding: .utf8)
                let line = try #require(text.split(separator: "\n").last { $0.hasPrefix("{") }, "\(text)")
                let election = try report(String(line))
                #expect(election.durationMillis - election.lastRenewalMillis < 2_000, "renewals went on after the kill: \(election)")
                #expect(election.longestRenewalGapMillis < 10_000, "the 10 s lease held: \(election)")
                print(
                    "40 ms between regions: loop median \(quiet.percentiles.median) ms; raft leader killed: longest renewal gap \(election.longestRenewalGapMillis) ms, \(election.failures) failed loops"
                )
            } catch {
                try? await RegionHostsLab.down(dir: dir)
                throw error
            }
            try await RegionHostsLab.down(dir: dir)
            #expect(lab.hosts.leftovers.isEmpty)
            #expect(pids.allSatisfy { !ProcessControl.isAlive($0) }, "no etcd left running")
            #expect(!FileManager.default.fileExists(atPath: dir))
        }

        /// A primary in region1 and its standby in region2, cloned and streaming across the
        /// 40 ms between them: a client in region2 feels the round trip, one in region1 not.
        @Test func aStandbyStreamsAcrossRegionsAndClientsFeelTheRoundTrip() async throws {
            let dir = "/tmp/drctl-regions-\(UUID().uuidString.prefix(8).lowercased())"
            let lab = try await RegionHostsLab.up(dir: dir, binary: try DrctlBinary.path(), latency: .milliseconds(40), databases: true)
            let postmasters = try lab.databases.compactMap { try lab.server($0).pid }
            #expect(postmasters.count == 2)
            do {
                let primary = try #require(lab.databases.first)
                let remote = try await lab.queryRoundTrips(from: "region2", to: primary, count: 10)
                let local = try await lab.queryRoundTrips(from: "region1", to: primary, count: 10)
                #expect(remote.count == 10 && local.count == 10)
                #expect(remote.allSatisfy { $0 >= 40 }, "region2 -> pg1 crosses the regions: \(remote)")
                #expect(local.sorted()[5] < 40, "region1 -> pg1 stays in the region: \(local)")
                print("psql SELECT 1 round trips to pg1, ms: from region2 \(remote), from region1 \(local)")
            } catch {
                try? await RegionHostsLab.down(dir: dir)
                throw error
            }
            try await RegionHostsLab.down(dir: dir)
            #expect(postmasters.allSatisfy { !ProcessControl.isAlive($0) }, "the servers were stopped")
            #expect(lab.hosts.leftovers.isEmpty)
        }

        /// `drctl-lab up --hosts` at 40 ms between regions with the recommended settings, driven
        /// as an operator would: etcd's raft leader lost and started again is no failover; then
        /// region1's whole host lost (database, agent, watchdog, etcd member, relay): the two
        /// surviving etcd members elect a leader, region2's agent promotes pg2 and switches the
        /// record, and an operator in region3 sees both. `lab down` leaves nothing behind.
        @Test func losingRegion1sHostFailsOverToRegion2() async throws {
            let dir = "/tmp/drctl-regions-\(UUID().uuidString.prefix(8).lowercased())"
            let binary = try DrctlBinary.path()
            func drctl(_ arguments: String...) async throws -> CommandRunner.Output {
                try await CommandRunner.run([try DrctlBinary.lab()] + arguments + ["--dir", dir], check: false)
            }
            let up = try await drctl("up", "--hosts", "--latency", "40ms")
            defer { _ = try? FileManager.default.removeItem(atPath: dir) }
            do {
                #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
                let lab = try RegionHostsLab.load(dir: dir)
                let (pg1, pg2) = (lab.databases[0], lab.databases[1])
                let status = try await drctl("status")
                #expect(status.status == 0 && status.stdout.contains("powerdns") && status.stdout.contains("leader key: pg1"), "\(status.stdout)")
                #expect(try await lab.acceptsWrites(pg1, from: "region3") == true)
                #expect(try await lab.acceptsWrites(pg2, from: "region3") == false)
                #expect(try await lab.resolveDatabaseRecord(from: "region3") == [pg1.host])

                // etcd's leader lost and back: an election, no failover.
                #expect(try await drctl("kill-etcd").status == 0)
                try await Task.sleep(for: .seconds(3))
                #expect(try await drctl("start-etcd").stdout.contains("started etcd"))
                #expect(try await lab.leaderKey() == "pg1")
                // Still the writable primary: a fenced pg1 would stay read-only or down, so the
                // few seconds allowed only absorb a psql slowed by the full suite's load.
                let stillPrimary = try await eventually(within: .seconds(10)) { try await lab.acceptsWrites(pg1, from: "region3") == true }
                if !stillPrimary {
                    let kept = await lab.keepDiagnostics(in: TestArtifacts.directory("region-hosts-etcd-leader-loss"))
                    Issue.record("pg1 stopped taking writes across etcd's leader election; diagnostics in \(kept)")
                }

                let killed = try await drctl("kill", "pg1")
                #expect(killed.status == 0 && killed.stdout.contains("lost region1's host"), "\(killed.stdout)\(killed.stderr)")
                #expect(try await eventually(within: .seconds(60)) { try await lab.acceptsWrites(pg2, from: "region3") == true })
                #expect(try await lab.leaderKey() == "pg2")
                #expect(try await eventually(within: .seconds(30)) { try await lab.resolveDatabaseRecord(from: "region3") == [pg2.host] })
                let history = try await lab.run(in: "region3", [binary, "history", "--config", lab.configFile]).stdout
                #expect(history.contains("pg2"), "the failover's evidence, read from region3: \(history)")
                #expect(try await drctl("status").status == 1, "region1's processes are gone")
            } catch {
                try? await RegionHostsLab.down(dir: dir)
                throw error
            }
            let hosts = LabHosts.plan(dir: dir, regions: RegionHostsLab.regions)
            #expect(try await drctl("down").status == 0)
            #expect(hosts.leftovers.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: dir))
        }

        /// The lab's own process killed halfway through `lab up --hosts` (etcd up, the primary
        /// starting): `lab down` reads what `up` recorded before making anything, and leaves no
        /// namespace, process or directory behind.
        @Test func labDownCleansUpAfterACrashedUp() async throws {
            let dir = "/tmp/drctl-regions-\(UUID().uuidString.prefix(8).lowercased())"
            let hosts = LabHosts.plan(dir: dir, regions: RegionHostsLab.regions)
            let up = try ProcessControl.spawnDaemon([try DrctlBinary.lab(), "up", "--hosts", "--dir", dir], logFile: "\(dir).up.log")
            defer { try? FileManager.default.removeItem(atPath: "\(dir).up.log") }
            let starting = try await eventually(within: .seconds(60)) {
                FileManager.default.fileExists(atPath: "\(dir)/region1/pg1/data/postmaster.pid")
            }
            kill(up, SIGKILL)
            _ = await ProcessControl.waitForExit(up, within: .seconds(5))
            #expect(starting, "lab up reached the primary's start: \((try? String(contentsOfFile: "\(dir).up.log", encoding: .utf8)) ?? "")")
            #expect(!hosts.leftovers.isEmpty && !ProcessControl.processes(mentioning: dir).isEmpty, "the crash left a half-made lab")

            let down = try await CommandRunner.run([try DrctlBinary.lab(), "down", "--dir", dir], check: false)
            #expect(down.status == 0, "\(down.stdout)\(down.stderr)")
            #expect(hosts.leftovers.isEmpty)
            #expect(ProcessControl.processes(mentioning: dir).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: dir))
        }

        /// Region1's host cut off from both other regions at 40 ms: its etcd member is a
        /// minority, so its agent cannot renew and pg1 must stop taking writes (asked from
        /// region1, whose clients still reach it) before pg2 takes any (asked from region3).
        /// After the heal pg1 stays read-only: one primary, pg2.
        @Test func anIsolatedPrimaryRegionStopsBeforeTheOtherRegionPromotes() async throws {
            let dir = "/tmp/drctl-regions-\(UUID().uuidString.prefix(8).lowercased())"
            let lab = try await RegionHostsLab.up(dir: dir, binary: try DrctlBinary.path(), latency: .milliseconds(40), agents: true)
            do {
                let (pg1, pg2) = (lab.databases[0], lab.databases[1])
                try await lab.isolate("region1")
                let clock = ContinuousClock()
                var pg1Stopped: ContinuousClock.Instant?
                var pg2Started: ContinuousClock.Instant?
                let end = clock.now + .seconds(60)
                while clock.now < end, pg2Started == nil {
                    if pg1Stopped == nil, try await lab.acceptsWrites(pg1, from: "region1") != true { pg1Stopped = clock.now }
                    if try await lab.acceptsWrites(pg2, from: "region3") == true { pg2Started = clock.now }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let stopped = try #require(pg1Stopped, "pg1 must stop taking writes once cut off")
                let started = try #require(pg2Started, "pg2 must be promoted once pg1's lease is gone")
                #expect(stopped < started, "pg1 stopped before pg2 took writes")
                #expect(try await lab.acceptsWrites(pg1, from: "region1") != true)

                // Healed: region1's etcd member rejoins (an election may follow); pg1 never
                // takes writes again, and pg2 leads.
                try await lab.heal("region1")
                let healed = clock.now
                var pg1Writable = false
                while clock.now < healed + .seconds(8) {
                    if try await lab.acceptsWrites(pg1, from: "region1") == true { pg1Writable = true }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(!pg1Writable, "the old primary stays read-only after the heal: \(agentLogs(dir))")
                let pg2Leads = try await eventually(within: .seconds(30)) {
                    guard try await lab.acceptsWrites(pg2, from: "region3") == true else { return false }
                    return try await lab.leaderKey() == "pg2"
                }
                #expect(pg2Leads, "\(agentLogs(dir))")
            } catch {
                Issue.record("\(agentLogs(dir))")
                try? await RegionHostsLab.down(dir: dir)
                throw error
            }
            try await RegionHostsLab.down(dir: dir)
            #expect(lab.hosts.leftovers.isEmpty)
        }

        /// The agents' last log lines (not the repeated "etcd unreachable"), for a failure's message.
        private func agentLogs(_ dir: String) -> String {
            ["region1", "region2"].map { region in
                let log = (try? String(contentsOfFile: "\(dir)/\(region)/agent/agent.log", encoding: .utf8)) ?? "no log"
                let lines = log.split(separator: "\n").filter { !$0.contains("etcd unreachable") }.suffix(12)
                return "\(region)'s agent:\n" + lines.joined(separator: "\n")
            }.joined(separator: "\n")
        }

        private func report(_ json: String) throws -> EtcdLoopProbe.Report {
            try JSONDecoder().decode(EtcdLoopProbe.Report.self, from: Data(json.utf8))
        }
    }
}
