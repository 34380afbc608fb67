import DRAgentTesting
import DRCore
import Foundation
import Testing

/// Failsafe (issue 17) with real agents on a manual clock: an etcd outage is no database
/// outage while every member confirms the leader, and each way the leader can lose a member
/// — a cut link, a member's restart, its own restart — still ends with at most one writer.
@Suite struct AgentFailsafeTests {
    static func cluster(nodes: [String] = ["a", "b"]) async throws -> AgentCluster {
        try await AgentCluster.bootstrapped(yaml: AgentCluster.configuration(nodes: nodes, failover: ["failsafe: true"]))
    }

    /// The lab finding, without servers: etcd loses quorum with every node healthy.
    /// The primary keeps accepting writes on its members' confirmations, nobody promotes,
    /// and etcd's return ends it without a failover (same node, recorded in the history).
    @Test func anEtcdOutageIsNoDatabaseOutage() async throws {
        let cluster = try await Self.cluster(nodes: ["a", "b", "c"])
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        let term = try #require(cluster.etcd.leader?.term)
        cluster.etcd.down = true
        try await cluster.run(for: .seconds(30))
        #expect(cluster.stoppedWriting("a", after: .seconds(10)) == nil, "a stayed writable: \(cluster.log.text)")
        #expect(cluster.servers.callLog("b").isEmpty && cluster.servers.callLog("c").isEmpty, "a standby never acts without etcd")
        let status = try #require(await cluster.agent("a")?.currentFailsafe)
        #expect(status.role == .leader && status.confirmedBy == ["b", "c"])
        #expect(await cluster.agent("b")?.currentFailsafe?.role == .member)
        cluster.etcd.down = false
        try await cluster.run(for: .seconds(10))
        #expect(cluster.stoppedWriting("a", after: .seconds(10)) == nil, "\(cluster.log.text)")
        #expect(cluster.etcd.leader?.node == "a" && cluster.etcd.leader?.term == term, "the lease survived the outage: renewed, same term")
        #expect(cluster.etcd.history.isEmpty, "no failover")
        let episode = try #require(cluster.etcd.failsafeEpisodes.first)
        #expect(episode.leader == "a" && episode.confirmedBy == ["b", "c"] && episode.seconds >= 25)
        #expect(episode.outcome == "etcd answered again; no failover")
        #expect(await cluster.agent("a")?.currentFailsafe == nil, "etcd's return ends it")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// Without etcd, one member stops answering the leader (a cut link): the leader fences
    /// at its usual deadline, and nobody promotes (etcd is down).
    @Test func aMemberThatCannotBeReachedFencesTheLeaderAtItsDeadline() async throws {
        let cluster = try await Self.cluster(nodes: ["a", "b", "c"])
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.down = true
        try await cluster.run(for: .seconds(10))
        cluster.cutAgentLinks(from: "a", to: ["c"])
        try await cluster.run(for: .seconds(10))
        let fenced = try #require(cluster.stoppedWriting("a", after: .seconds(20)), "\(cluster.log.text)")
        #expect(fenced.sinceStart - .seconds(20) <= .seconds(5), "within the lease TTL")
        #expect(cluster.servers.writable.isEmpty)
        #expect(await cluster.agent("a")?.currentFailsafe == nil, "fenced: failsafe is over")
        cluster.etcd.down = false
        try await cluster.run(for: .seconds(10))
        let episode = try #require(cluster.etcd.failsafeEpisodes.first, "\(cluster.log.text)")
        #expect(episode.outcome.hasPrefix("fenced") && episode.outcome.contains("c unreachable"), "\(episode.outcome)")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// The leader alone is cut off from etcd; the standby still reads it and sees the key
    /// lapse. It confirmed the leader, so it does not take the key: one writer, no failover.
    /// When the leader reaches etcd again it takes the key back (a new term, no failover).
    @Test func aLeaderCutOffFromEtcdOnlyKeepsWritingAndTakesTheKeyBack() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.cutOff(["a"])
        try await cluster.run(for: .seconds(30))
        #expect(cluster.etcd.leader == nil, "the key lapsed in etcd")
        #expect(cluster.stoppedWriting("a", after: .seconds(10)) == nil, "\(cluster.log.text)")
        #expect(!cluster.servers.callLog("b").contains { $0.hasPrefix("promote") })
        cluster.etcd.cutOff([])
        try await cluster.run(for: .seconds(10))
        #expect(cluster.etcd.leader?.node == "a", "\(cluster.log.text)")
        #expect(cluster.stoppedWriting("a", after: .seconds(10)) == nil)
        #expect(cluster.etcd.history.isEmpty, "no failover")
        // Taking the key back was no failover: no cooldown holds the next, real one.
        await cluster.loseHost("a")
        try await cluster.run(for: .seconds(20))
        #expect(cluster.becameWritable("b", after: .seconds(50)) != nil, "\(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// The leader's region isolated while etcd still works for the others: no member hears
    /// from it, so it fences at its deadline, and only then does the standby take over.
    @Test func anIsolatedLeaderIsFencedBeforeTheStandbyTakesOver() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.cutOff(["a"])
        cluster.cutAgentLinks(from: "a", to: ["b"])
        try await cluster.run(for: .seconds(30))
        let fenced = try #require(cluster.stoppedWriting("a", after: .seconds(10)), "\(cluster.log.text)")
        let promoted = try #require(cluster.becameWritable("b", after: .seconds(10)), "\(cluster.log.text)")
        #expect(fenced < promoted)
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// Running in failsafe (cut off from etcd), the leader then loses its link to the
    /// standby, whose agent restarts at that moment: the restarted agent must keep the
    /// promise it gave, or it would take the lapsed key while the leader still writes.
    @Test func aRestartedMemberKeepsItsPromise() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.cutOff(["a"])
        try await cluster.run(for: .seconds(15))
        cluster.cutAgentLinks(from: "a", to: ["b"])
        await cluster.killAgent("b")
        await cluster.startAgent("b")
        try await cluster.run(for: .seconds(20))
        let fenced = try #require(cluster.stoppedWriting("a", after: .seconds(25)), "\(cluster.log.text)")
        let promoted = try #require(cluster.becameWritable("b", after: .seconds(25)), "\(cluster.log.text)")
        #expect(fenced < promoted)
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// The same fault, but the member cannot write its promise (a full disk, a read-only
    /// state directory: here the file's path is a directory). A promise that would not
    /// survive a restart must not be given: the member refuses, the leader fences at its
    /// deadline, and only then does the member take over.
    @Test func aMemberThatCannotRecordItsPromiseRefusesIt() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        try FileManager.default.createDirectory(atPath: "\(cluster.stateDir)/b.failsafe-promise", withIntermediateDirectories: true)
        cluster.etcd.cutOff(["a"])
        try await cluster.run(for: .seconds(15))
        cluster.cutAgentLinks(from: "a", to: ["b"])
        await cluster.killAgent("b")
        await cluster.startAgent("b")
        try await cluster.run(for: .seconds(20))
        let fenced = try #require(cluster.stoppedWriting("a", after: .seconds(10)), "\(cluster.log.text)")
        let promoted = try #require(cluster.becameWritable("b", after: .seconds(10)), "\(cluster.log.text)")
        #expect(fenced < promoted)
        #expect(cluster.log.text.contains("could not record"), "the refusal says why")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// The member gave and recorded its promise, but after its restart the file cannot be
    /// read (a damaged disk, a garbled line). Not knowing whom it promised what, it takes no
    /// key for a whole TTL — as if it had promised just before the restart.
    @Test(arguments: ["garbled", "unreadable"])
    func aMemberWhosePromiseFileIsDamagedHoldsForATTL(damage: String) async throws {
        let cluster = try await Self.cluster()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.cutOff(["a"])
        try await cluster.run(for: .seconds(15))
        cluster.cutAgentLinks(from: "a", to: ["b"])
        await cluster.killAgent("b")
        let file = "\(cluster.stateDir)/b.failsafe-promise"
        #expect(FileManager.default.fileExists(atPath: file), "the promise was recorded")
        try FileManager.default.removeItem(atPath: file)
        if damage == "garbled" {
            try "a 7 1234".write(toFile: file, atomically: true, encoding: .utf8)
        } else {
            try FileManager.default.createDirectory(atPath: file, withIntermediateDirectories: true)
        }
        await cluster.startAgent("b")
        try await cluster.run(for: .seconds(20))
        let fenced = try #require(cluster.stoppedWriting("a", after: .seconds(25)), "\(cluster.log.text)")
        let promoted = try #require(cluster.becameWritable("b", after: .seconds(25)), "\(cluster.log.text)")
        #expect(fenced < promoted)
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// An NTP step or an operator's `date -s` during a failsafe episode, both ways: nothing
    /// the agents time moves (leases, promises, rounds run on the monotonic clock), and the
    /// episode's length in the history is the time it really lasted.
    @Test func aWallClockStepDuringFailsafeChangesNothing() async throws {
        let cluster = try await Self.cluster(nodes: ["a", "b", "c"])
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.down = true
        try await cluster.run(for: .seconds(8))
        cluster.clock.stepWallClock(by: .seconds(3600))
        try await cluster.run(for: .seconds(8))
        cluster.clock.stepWallClock(by: .seconds(-7200))
        try await cluster.run(for: .seconds(8))
        #expect(cluster.stoppedWriting("a", after: .seconds(10)) == nil, "\(cluster.log.text)")
        #expect(cluster.servers.writable == ["a"])
        cluster.etcd.down = false
        try await cluster.run(for: .seconds(10))
        #expect(cluster.etcd.history.isEmpty, "no failover")
        let episode = try #require(cluster.etcd.failsafeEpisodes.first)
        #expect(episode.seconds >= 20 && episode.seconds <= 30, "\(episode.seconds) s on the monotonic clock")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// The leader's agent restarts (SIGTERM, the watchdog guards the lease) during an etcd
    /// outage: the new agent takes the membership back from disk and goes on asking.
    @Test func aLeaderAgentRestartDuringAnOutageChangesNothing() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.down = true
        try await cluster.run(for: .seconds(10))
        try await cluster.stopAgent("a")
        await cluster.startAgent("a")
        try await cluster.run(for: .seconds(20))
        #expect(cluster.stoppedWriting("a", after: .seconds(10)) == nil, "\(cluster.log.text)")
        cluster.etcd.down = false
        try await cluster.run(for: .seconds(10))
        #expect(cluster.etcd.leader?.node == "a")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// An operator's failover during an outage that only the leader suffers: the standby
    /// stops confirming, the leader fences at its deadline, then the standby takes over.
    @Test func anOperatorFailoverEndsTheFailsafeLeaderFirst() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.cutOff(["a"])
        try await cluster.run(for: .seconds(15))
        try await cluster.etcd.client("operator").setFailoverIntent(FailoverIntent(to: "b", acceptDataLoss: false), expiry: .seconds(600))
        try await cluster.run(for: .seconds(20))
        let fenced = try #require(cluster.stoppedWriting("a", after: .seconds(25)), "\(cluster.log.text)")
        let promoted = try #require(cluster.becameWritable("b", after: .seconds(25)), "\(cluster.log.text)")
        #expect(fenced < promoted)
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// Without etcd each of the leader's reads waits out its time-outs (one per endpoint),
    /// longer than the lease leaves: the rounds keep their own pace, one per interval, so
    /// the leader is not fenced between two slow ticks.
    @Test func slowReadsWithoutEtcdDoNotDelayTheRounds() async throws {
        let cluster = try await Self.cluster()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.cutOff(["a"])
        cluster.etcd.slowReads(["a": .milliseconds(4500)])
        try await cluster.run(for: .seconds(30))
        #expect(cluster.stoppedWriting("a", after: .seconds(10)) == nil, "\(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }
}
