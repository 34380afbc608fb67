import DRAgentTesting
import DRCore
import Foundation
import Testing

/// What a healthy cluster costs etcd at the production defaults `drctl init` writes (1 s
/// loop, 5 s lease; the agent cluster's defaults), counted request by request as etcd would
/// serve them: a fleet of clusters shares one etcd, so every loop's requests and every raft
/// write is multiplied by the fleet (docs/fleet.md has the calculation).
@Suite struct AgentEtcdCostTests {
    struct Cost: CustomStringConvertible {
        var writes = 0
        var requests = 0
        var byKind: [InMemoryEtcd.Operation: Int] = [:]
        /// The writes that rode in reads, by what they would otherwise have been.
        var carried: [InMemoryEtcd.Operation: Int] = [:]
        var description: String {
            "\(requests) requests, \(writes) writes: " + byKind.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", ") + "; carried in reads: "
                + carried.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", ")
        }
        /// Member records written, on their own or in a read.
        var memberRecords: Int { (byKind[.publishMember] ?? 0) + (carried[.publishMember] ?? 0) }
    }

    /// Each agent's requests over `seconds` of steady state after the cluster settled.
    static func measure(idle: Bool, seconds: Int) async throws -> (cluster: AgentCluster, cost: [String: Cost]) {
        let cluster = try await AgentCluster.bootstrapped(yaml: AgentCluster.configuration(nodes: ["a", "b", "c"]))
        for node in ["a", "b", "c"] { cluster.servers.change(node) { $0.writing = !idle } }
        try await cluster.run(for: .seconds(15))
        let before = Dictionary(uniqueKeysWithValues: ["a", "b", "c"].map { ($0, cluster.etcd.requestsServed(by: $0)) })
        let carriedBefore = Dictionary(uniqueKeysWithValues: ["a", "b", "c"].map { ($0, cluster.etcd.writesCarried(by: $0)) })
        try await cluster.run(for: .seconds(seconds))
        var cost: [String: Cost] = [:]
        for node in ["a", "b", "c"] {
            var spent = Cost()
            for (kind, count) in cluster.etcd.requestsServed(by: node) {
                let delta = count - (before[node]?[kind] ?? 0)
                guard delta > 0 else { continue }
                spent.byKind[kind] = delta
                spent.requests += delta
                if kind.isWrite { spent.writes += delta }
            }
            for (kind, count) in cluster.etcd.writesCarried(by: node) where count > carriedBefore[node]?[kind] ?? 0 {
                spent.carried[kind] = count - (carriedBefore[node]?[kind] ?? 0)
            }
            cost[node] = spent
        }
        return (cluster, cost)
    }

    @Test func anIdleClusterWritesOnlyTheProgressHeartbeat() async throws {
        let (cluster, cost) = try await Self.measure(idle: true, seconds: 60)
        defer { cluster.close() }
        let writes = cost.values.map(\.writes).reduce(0, +)
        #expect(writes <= 7, "the leader's progress every 10 s, nothing else: \(cost)")
        for node in ["b", "c"] { #expect(cost[node]?.memberRecords == 0, "an unchanged standby writes nothing: \(cost)") }
        for node in ["b", "c"] {
            #expect(Double(cost[node]?.requests ?? 0) / 60 <= 1.6, "a standby: its read, and a member keep-alive every other loop: \(cost)")
        }
        #expect(Double(cost["a"]?.requests ?? 0) / 60 <= 2, "the leader: its read and one keep-alive for both its leases: \(cost)")
        #expect(cluster.safetyViolations.isEmpty)
    }

    /// Issue 30's goal: at most one write a second per cluster in steady state, under load.
    @Test func aBusyClusterWritesOnlyItsProgress() async throws {
        let (cluster, cost) = try await Self.measure(idle: false, seconds: 60)
        defer { cluster.close() }
        let writes = cost.values.map(\.writes).reduce(0, +)
        // The primary's position moves every loop, and the RPO gate needs it every loop;
        // the standbys' positions ride in it.
        #expect(writes <= 60, "one write a second, the progress: \(cost)")
        for node in ["b", "c"] {
            #expect(cost[node]?.memberRecords == 0, "an unchanged standby writes nothing: \(cost)")
            #expect(Double(cost[node]?.requests ?? 0) / 60 <= 1.6, "a standby: its read, and a member keep-alive every other loop: \(cost)")
        }
        #expect(Double(cost["a"]?.requests ?? 0) / 60 <= 2, "the leader: its read and one keep-alive for both its leases: \(cost)")
        #expect(cluster.safetyViolations.isEmpty)
    }
}

/// Written on change is not written once: a record etcd lost is written again at once.
@Suite struct MemberRecordRepublishTests {
    @Test func aRecordThatExpiredWithItsLeaseDuringAPartitionIsWrittenAgainWhenItHeals() async throws {
        let cluster = try await AgentCluster.bootstrapped(yaml: AgentCluster.configuration(nodes: ["a", "b", "c"]))
        defer { cluster.close() }
        try await cluster.run(for: .seconds(15))
        #expect(cluster.etcd.entry("members/c") != nil)
        cluster.etcd.cutOff(["c"])
        try await cluster.run(for: .seconds(8))
        #expect(cluster.etcd.entry("members/c") == nil, "c's lease expired, taking its record with it")
        cluster.etcd.cutOff([])
        let back = try await cluster.run(within: .seconds(2.5)) { cluster.etcd.entry("members/c") != nil }
        #expect(back, "written again within two loops: \(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty)
    }

    /// No timer rewrites a record: the loop's read shows that etcd holds something other
    /// than what was written (here an older copy, as a restored etcd or a write whose answer
    /// was lost would leave), and the record is written again.
    @Test func aRecordEtcdHoldsAnOlderCopyOfIsWrittenAgain() async throws {
        let cluster = try await AgentCluster.bootstrapped(yaml: AgentCluster.configuration(nodes: ["a", "b", "c"]))
        defer { cluster.close() }
        try await cluster.run(for: .seconds(15))
        let entry = try #require(cluster.etcd.entry("members/c"))
        var older = try JSONDecoder().decode(MemberRecord.self, from: entry.value)
        older.publishedAtMillis -= 3_600_000
        older.lsn = LSN(1)
        try await cluster.etcd.client("operator").publish(older, lease: entry.lease)
        let back = try await cluster.run(within: .seconds(2.5)) {
            (cluster.etcd.entry("members/c").flatMap { try? JSONDecoder().decode(MemberRecord.self, from: $0.value) })?.publishedAtMillis ?? 0
                > older.publishedAtMillis + 3_600_000
        }
        #expect(back, "written again within two loops: \(cluster.log.text.suffix(3000))")
        #expect(cluster.safetyViolations.isEmpty)
    }

    /// The leader renews its member lease with its leader lease: a member lease found gone
    /// there is granted anew and the record written again, and the leader lease is untouched.
    @Test func aLeaderWhoseMemberLeaseWasRevokedWritesItsRecordAgainAndKeepsLeading() async throws {
        let cluster = try await AgentCluster.bootstrapped(yaml: AgentCluster.configuration(nodes: ["a", "b", "c"]))
        defer { cluster.close() }
        try await cluster.run(for: .seconds(15))
        let term = try #require(cluster.etcd.leader).term
        let memberLease = try #require(cluster.etcd.entry("members/a")).lease
        #expect(memberLease != cluster.etcd.leader?.lease)
        try await cluster.etcd.client("operator").revoke(lease: memberLease)
        #expect(cluster.etcd.entry("members/a") == nil)
        let back = try await cluster.run(within: .seconds(4)) { cluster.etcd.entry("members/a").map { $0.lease != memberLease } ?? false }
        #expect(back, "written again under a new lease within a few loops: \(cluster.log.text)")
        try await cluster.run(for: .seconds(5))
        #expect(cluster.etcd.leader?.node == "a" && cluster.etcd.leader?.term == term && cluster.servers.writable == ["a"], "\(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty)
    }

    @Test func aRecordWhoseWriteFailedIsWrittenAgainAtTheNextLoop() async throws {
        let cluster = try await AgentCluster.bootstrapped(yaml: AgentCluster.configuration(nodes: ["a", "b", "c"]))
        defer { cluster.close() }
        try await cluster.run(for: .seconds(15))
        // One change worth writing (c falls 32 MiB behind) while member writes time out.
        cluster.etcd.fail([.publishMember])
        cluster.servers.isolate(["c"])
        cluster.servers.change("a") { $0.lsn += 32 << 20 }
        try await cluster.run(for: .seconds(1.5))
        cluster.etcd.fail([])
        try await cluster.run(for: .seconds(2.5))
        let record = try JSONDecoder().decode(MemberRecord.self, from: try #require(cluster.etcd.entry("members/c")).value)
        #expect((record.lagBytes ?? 0) >= 32 << 20, "written again after the failed write: \(record)")
    }
}

/// The leader's progress rides in its read: a refused write must not cost it its view.
@Suite struct ProgressInTheReadTests {
    @Test func aLeaderWhoseProgressWritesAreRefusedStillReadsTheCluster() async throws {
        let cluster = try await AgentCluster.bootstrapped(yaml: AgentCluster.configuration(nodes: ["a", "b", "c"]))
        defer { cluster.close() }
        try await cluster.run(for: .seconds(10))
        let reads = cluster.etcd.requestsServed(by: "a")[.snapshot] ?? 0
        cluster.etcd.fail([.publishProgress])  // e.g. etcd's space quota: writes refused, reads served
        try await cluster.run(for: .seconds(10))
        #expect((cluster.etcd.requestsServed(by: "a")[.snapshot] ?? 0) - reads >= 9, "a plain read after each refused write")
        #expect(cluster.etcd.leader?.node == "a" && cluster.servers.writable == ["a"], "\(cluster.log.text)")
        let stale = try #require(cluster.etcd.entry("progress")).modRevision
        cluster.etcd.fail([])
        try await cluster.run(for: .seconds(2))
        #expect(try #require(cluster.etcd.entry("progress")).modRevision > stale, "written again once etcd takes writes")
        #expect(cluster.safetyViolations.isEmpty)
    }
}

/// Found by `drctl-lab fleet`: a cluster that failed over once fails over again.
@Suite struct SecondFailoverTests {
    @Test func aClusterThatFailedOverOnceFailsOverAgainAfterTheCooldown() async throws {
        let yaml = AgentCluster.configuration(nodes: ["a", "b", "c"], cooldown: "10s", failover: ["auto_rejoin: true"])
        let cluster = try await AgentCluster.bootstrapped(yaml: yaml)
        defer { cluster.close() }
        try await cluster.run(for: .seconds(10))
        await cluster.loseHost("a")
        #expect(try await cluster.run(within: .seconds(15)) { cluster.servers.writable.count == 1 && cluster.servers.writable != ["a"] })
        let first = try #require(cluster.servers.writable.first)
        try await cluster.run(for: .seconds(3))
        let progress = try JSONDecoder().decode(PrimaryProgress.self, from: try #require(cluster.etcd.entry("progress")).value)
        #expect(progress.node == first && !progress.startOfTerm, "the new primary's own progress, not its claim: \(progress)")
        await cluster.restoreHost("a")
        try await cluster.run(for: .seconds(10))
        await cluster.loseHost(first)
        let again = try await cluster.run(within: .seconds(25)) { cluster.servers.writable.count == 1 && cluster.servers.writable != [first] }
        #expect(again, "a second failover after the cooldown: \(cluster.log.text.suffix(4000))")
        #expect(cluster.safetyViolations.isEmpty)
    }
}
