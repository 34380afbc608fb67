import DRAgentTesting
import DRCore
import Testing

/// What the agents hand to `notifications:`: each happening once, from the agent that
/// knows it, under a key every agent would derive alike (the dispatcher claims it in etcd).
@Suite struct AgentNotificationTests {
    static func kinds(_ cluster: AgentCluster) -> [String] {
        cluster.notifications.events.map { "\($0.agent) \($0.event.kind.rawValue)\($0.event.resolves ? " resolved" : "")" }
    }

    @Test func aFailoverIsReportedOnceByThePromotedAndTheFenceByTheOldPrimary() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        #expect(cluster.notifications.events.isEmpty, "a healthy cluster reports nothing")
        cluster.servers.change("a") { $0.frozen = true }
        try await cluster.run(for: .seconds(30))
        let promoted = try #require(cluster.servers.writable.first, "\(cluster.log.text)")
        let term = try #require(cluster.etcd.leader?.term)
        let failovers = cluster.notifications.events.filter { $0.event.kind == .failover }
        #expect(failovers.count == 1 && failovers.first?.agent == promoted, "\(Self.kinds(cluster))")
        #expect(failovers.first?.event.dedupKey == "failover-term-\(term)")
        #expect(failovers.first?.event.details["promoted"] == promoted && failovers.first?.event.severity == .critical)
        let fences = cluster.notifications.events.filter { $0.event.kind == .fence }
        #expect(fences.count == 1 && fences.first?.agent == "a", "\(Self.kinds(cluster))")
        #expect(Set(cluster.notifications.events.map(\.event.dedupKey)).count == cluster.notifications.events.count, "no key twice")
    }

    /// A fence retried every loop is one event; the wait for an operator it causes another.
    @Test func aFenceThatKeepsFailingIsReportedOnceWithTheOperatorsWait() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(20))
        cluster.servers.change("a") {
            $0.frozen = true; $0.fenceFails = true
        }
        try await cluster.run(for: .seconds(20))
        let events = cluster.notifications.events.filter { $0.agent == "a" }.map(\.event)
        #expect(events.filter { $0.kind == .fence }.count == 1, "\(Self.kinds(cluster))")
        #expect(events.first { $0.kind == .fence }?.summary.contains("could not be") == true)
        #expect(events.filter { $0.kind == .manualIntervention }.count == 1, "\(Self.kinds(cluster))")
    }

    @Test func aStandbyBeyondTheRPOAsksForAnOperatorOnce() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.servers.isolate(["b"])
        try await cluster.run(until: .seconds(20))
        await cluster.loseHost("a")
        try await cluster.run(for: .seconds(40))
        let holds = cluster.notifications.events.filter { $0.event.kind == .manualIntervention }
        #expect(holds.count == 1 && holds.first?.agent == "b", "\(Self.kinds(cluster))")
        #expect(holds.first?.event.summary.contains("beyond") == true || holds.first?.event.summary.contains("RPO") == true, "\(holds.map(\.event.summary))")
    }

    /// A standby promoted by hand while the leader still runs: the split brain is reported
    /// once (with the wait for an operator that comes with it), from the forced node's agent.
    @Test func aSplitBrainIsReportedOnce() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.servers.change("b") {
            $0.inRecovery = false; $0.standbySignal = false; $0.upstream = nil; $0.forcedPromotion = true; $0.timeline += 1
        }
        try await cluster.run(for: .seconds(10))
        let split = cluster.notifications.events.filter { $0.event.kind == .splitBrain }
        #expect(split.count == 1 && split.first?.agent == "b", "\(Self.kinds(cluster)) \(cluster.log.text.suffix(2000))")
        #expect(split.first?.event.summary.contains("split brain") == true)
    }

    /// A blip shorter than a lease TTL is no page; a longer outage is reported by every
    /// agent cut off (none can know another did) and resolved when etcd answers again.
    @Test func anEtcdOutageIsReportedOnceEachAndResolved() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.down = true
        try await cluster.run(for: .milliseconds(1500))
        cluster.etcd.down = false
        try await cluster.run(for: .seconds(5))
        #expect(cluster.notifications.events.isEmpty, "a blip: \(Self.kinds(cluster))")
        cluster.etcd.down = true
        try await cluster.run(for: .seconds(20))
        cluster.etcd.down = false
        try await cluster.run(for: .seconds(20))
        let etcd = cluster.notifications.events.filter { $0.event.kind == .etcdUnreachable }
        #expect(etcd.filter { !$0.event.resolves }.map(\.agent).sorted() == ["a", "b"], "\(Self.kinds(cluster))")
        #expect(etcd.filter(\.event.resolves).map(\.agent).sorted() == ["a", "b"], "\(Self.kinds(cluster))")
    }
}
