import DRAgentTesting
import DRCore
import Foundation
import Testing

/// The faults outside DESIGN.md's table that broke the safety promise once (issue 10), run
/// by real agents on a manual clock: lapsed leases, etcd failing in part or whole, slow
/// promotions, restarts after a fence, records from another version. After every step at
/// most one server may accept writes.
@Suite struct AgentSafetyTests {
    /// The renewals reach etcd but their answers are lost: the primary cannot know its lease
    /// holds, so it fences at its deadline; its key lapses and the standby takes over.
    @Test func primaryThatCannotConfirmItsLeaseFencesBeforeTheStandbyPromotes() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.loseAnswers(to: ["a"])
        try await cluster.run(for: .seconds(30))
        let fenced = try #require(cluster.stoppedWriting("a", after: .seconds(10)), "\(cluster.log.text)")
        #expect(fenced.sinceStart - .seconds(10) <= .seconds(5), "at the lease deadline, not later")
        if let promoted = cluster.becameWritable("b", after: .seconds(10)) { #expect(fenced < promoted) }
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// etcd answers reads but times out lease renewals (its lease subsystem stalled): the
    /// primary cannot keep its lease, so it fences before the lease can lapse, and only then
    /// may the standby take over (with renewals failing, it cannot keep a lease either).
    @Test func renewalsFailingWhileReadsWorkFenceThePrimaryFirst() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.fail([.keepAlive])
        try await cluster.run(for: .seconds(15))
        let fenced = try #require(cluster.stoppedWriting("a", after: .seconds(10)), "\(cluster.log.text)")
        #expect(fenced.sinceStart - .seconds(10) <= .seconds(5))
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
        cluster.etcd.fail([])
        try await cluster.run(for: .seconds(20))
        #expect(cluster.servers.writable.count == 1, "once renewals work again one primary leads: \(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// Writes time out (a slow etcd leader election) while reads work: the leader key is
    /// neither renewed nor taken, and no two servers ever accept writes.
    @Test func writesTimingOutNeverYieldTwoPrimaries() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.fail([.keepAlive, .grantLease, .acquireLeadership, .releaseLeadership, .publishMember, .publishProgress])
        try await cluster.run(for: .seconds(15))
        #expect(cluster.servers.callLog("b").allSatisfy { !$0.hasPrefix("promote") }, "\(cluster.log.text)")
        cluster.etcd.fail([])
        try await cluster.run(for: .seconds(20))
        #expect(cluster.servers.writable.count == 1, "\(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// etcd loses quorum: without failsafe the primary stops at its lease deadline and no
    /// standby promotes; when etcd returns, one primary leads again.
    @Test func etcdOutageStopsWritesAndItsEndRestoresOnePrimary() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.down = true
        try await cluster.run(for: .seconds(20))
        #expect(cluster.servers.writable.isEmpty, "\(cluster.log.text)")
        #expect(cluster.servers.callLog("b").isEmpty, "a standby never acts without etcd")
        cluster.etcd.down = false
        try await cluster.run(for: .seconds(30))
        #expect(cluster.servers.writable.count == 1, "\(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// A promotion that outlasts the lease (a long WAL replay) keeps the lease meanwhile:
    /// it is neither fenced nor raced.
    @Test func slowPromotionKeepsItsLease() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(20))
        cluster.servers.change("b") { $0.promotionTakes = .seconds(12) }
        await cluster.loseHost("a")
        try await cluster.run(for: .seconds(30))
        let promoted = try #require(cluster.becameWritable("b", after: .seconds(20)), "\(cluster.log.text)")
        #expect(promoted.sinceStart - .seconds(20) >= .seconds(12))
        #expect(!cluster.servers.callLog("b").contains("fence"), "\(cluster.log.text)")
        #expect(cluster.etcd.leader?.node == "b" && cluster.servers.writable == ["b"])
        #expect(cluster.safetyViolations.isEmpty)
    }

    /// Cut off from etcd in the middle of a slow promotion: the node may become writable at
    /// any moment, so its lease deadline fences it.
    @Test func promotionCutOffFromEtcdIsFencedAtTheLeaseDeadline() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(20))
        cluster.servers.change("b") { $0.promotionTakes = .seconds(30) }
        await cluster.loseHost("a")
        try await cluster.run(until: .seconds(29))
        #expect(cluster.etcd.leader?.node == "b", "\(cluster.log.text)")
        cluster.etcd.cutOff(["b"])
        try await cluster.run(for: .seconds(20))
        #expect(cluster.servers.callLog("b").contains("fence"), "\(cluster.log.text)")
        #expect(cluster.servers.writable.isEmpty)
        #expect(cluster.safetyViolations.isEmpty)
    }

    /// The headline split brain: the primary's region is cut off, it fences, the standby
    /// takes over; then the old host reboots (init starts PostgreSQL, a new agent starts)
    /// while still cut off. It must come up read-only and stay so, and after the partition
    /// heals it must not take writes again.
    @Test func fencedPrimaryRebootedWhileCutOffStaysReadOnly() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(20))
        cluster.etcd.cutOff(["a"])
        cluster.servers.isolate(["a"])
        try await cluster.run(until: .seconds(40))
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
        await cluster.killAgent("a")
        cluster.servers.boot("a")
        await cluster.startAgent("a")
        try await cluster.run(until: .seconds(60))
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
        cluster.etcd.cutOff([])
        cluster.servers.isolate([])
        try await cluster.run(until: .seconds(90))
        #expect(cluster.servers.writable == ["b"])
        #expect(cluster.becameWritable("a", after: .seconds(21)) == nil)
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// The primary's host loses power (nothing is fenced, nothing written) and comes back
    /// after the standby took over: init starts PostgreSQL, and it must come up read-only —
    /// the agent keeps `standby.signal` in a running primary's data directory for this.
    @Test func primaryBackFromPowerLossStartsReadOnly() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(20))
        await cluster.loseHost("a")
        try await cluster.run(for: .seconds(15))
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
        await cluster.restoreHost("a")
        #expect(cluster.servers.writable == ["b"], "init started a read-only")
        try await cluster.run(for: .seconds(15))
        #expect(cluster.servers.writable == ["b"])
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// The new primary's host reboots (same boot id, as a container restart keeps it) and
    /// stays down past its lease: the old primary's rejoin finds nobody to rewind from. The
    /// rebooted server comes up read-only; its new agent must not hand the expired lease to
    /// its watchdog, which would stop a read-only server and leave no candidate at all.
    ///
    /// With `realReboot` the lease file names another boot, so its instant means nothing and
    /// a watchdog would fence at once: the new agent must void that lease before its watchdog
    /// starts, since the database came up read-only.
    @Test(arguments: [false, true])
    func aRebootedPrimaryIsNotFencedByItsExpiredLease(realReboot: Bool) async throws {
        let cluster = try await AgentCluster.bootstrapped(yaml: AgentCluster.configuration(cooldown: "20s", failover: ["auto_rejoin: true"]))
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.cutOff(["a"])
        cluster.servers.isolate(["a"])
        try await cluster.run(until: .seconds(25))
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
        await cluster.loseHost("b")
        cluster.etcd.cutOff([])
        cluster.servers.isolate([])
        if realReboot {
            let leaseFile = "\(cluster.stateDir)/b.lease"
            let before = try String(contentsOfFile: leaseFile, encoding: .utf8).split(separator: " ")
            #expect(before.count == 5, "b published its lease while primary")
            try (before.prefix(3) + ["another-boot", before[4]]).joined(separator: " ").write(toFile: leaseFile, atomically: true, encoding: .utf8)
        }
        try await cluster.run(until: .seconds(33))
        await cluster.restoreHost("b")
        try await cluster.run(until: .seconds(90))
        #expect(!cluster.servers.callLog("b").contains("fence"), "\(cluster.log.text)")
        #expect(cluster.servers.writable.count == 1, "\(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// The standby's host is gone, then the primary is cut off from etcd and fences itself.
    /// When the cut heals, nobody but the fenced old primary can take over — and it holds
    /// every commit: it must leave its fence and lead again (in synchronous mode too), not
    /// leave the cluster without a primary. The standby then comes back and follows it.
    @Test(arguments: [false, true])
    func theLastLeaderResumesWhenNobodyElseCan(synchronous: Bool) async throws {
        let cluster = try await AgentCluster.bootstrapped(
            yaml: AgentCluster.configuration(cooldown: "20s", failover: ["auto_rejoin: true", "synchronous: \(synchronous)"]))
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        await cluster.loseHost("b")
        try await cluster.run(until: .seconds(20))
        cluster.etcd.cutOff(["a"])
        try await cluster.run(until: .seconds(35))
        #expect(cluster.servers.writable.isEmpty, "a fenced itself: \(cluster.log.text)")
        cluster.etcd.cutOff([])
        try await cluster.run(until: .seconds(60))
        #expect(cluster.servers.writable == ["a"], "\(cluster.log.text)")
        #expect(cluster.etcd.leader?.node == "a")
        await cluster.restoreHost("b")
        try await cluster.run(until: .seconds(80))
        #expect(cluster.servers.writable == ["a"])
        #expect(cluster.servers["b"].upstream == "a", "b follows the resumed leader")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// A primary lost while its last WAL never reached the standby comes back read-only and
    /// follows the new leader, but cannot stream: its WAL went past the fork. It is rewound;
    /// when the first rewind fails (it was stopped for it), it is left fenced and tried again,
    /// never left a stopped standby that nothing starts.
    @Test func aStandbyPastTheForkIsRewoundAndARewindThatFailsIsRetried() async throws {
        let cluster = try await AgentCluster.bootstrapped(yaml: AgentCluster.configuration(cooldown: "20s", failover: ["auto_rejoin: true"]))
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        await cluster.loseHost("a")
        try await cluster.run(until: .seconds(25))
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
        cluster.servers.change("a") {
            $0.pastFork = true; $0.rewindFails = true
        }
        await cluster.restoreHost("a")
        try await cluster.run(until: .seconds(70))
        #expect(cluster.servers.callLog("a").contains("rejoin b"), "rewound after not streaming for a while: \(cluster.log.text)")
        cluster.servers.change("a") { $0.rewindFails = false }
        try await cluster.run(until: .seconds(130))
        #expect(cluster.servers["a"].running && cluster.servers["a"].inRecovery && !cluster.servers["a"].pastFork, "\(cluster.log.text)")
        #expect(cluster.servers.writable == ["b"])
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// A standby that won the key but cannot renew it (etcd times renewals out) never
    /// promotes, and its watchdog leaves it alone: it is read-only, still a candidate.
    @Test func aStandbyThatCannotKeepTheKeyIsNotFenced() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.fail([.keepAlive])
        await cluster.loseHost("a")
        try await cluster.run(for: .seconds(15))
        #expect(!cluster.servers.callLog("b").contains("fence") && cluster.servers["b"].running, "\(cluster.log.text)")
        cluster.etcd.fail([])
        try await cluster.run(for: .seconds(15))
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
    }

    /// The same reboot, but the fence's `standby.signal` was lost (a restored data
    /// directory, an operator's cleanup): the server comes up writable, and the agent —
    /// with no lease and no etcd — must fence it at once.
    @Test func unleasedWritableServerWithoutEtcdIsFenced() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(20))
        cluster.etcd.cutOff(["a"])
        cluster.servers.isolate(["a"])
        try await cluster.run(until: .seconds(40))
        await cluster.killAgent("a")
        try FileManager.default.removeItem(atPath: "\(cluster.stateDir)/a.lease")
        cluster.servers.change("a") { $0.standbySignal = false }
        cluster.servers.boot("a")
        #expect(cluster.servers.writable == ["a", "b"], "the fault itself: two writable servers until a's agent runs")
        await cluster.startAgent("a")
        try await cluster.run(until: .seconds(42))
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
    }

    /// The wall clock steps an hour forward, then two back (NTP, an operator's `date -s`):
    /// leases and deadlines run on the monotonic clock, so nothing fails over or fences.
    @Test func wallClockStepsChangeNothing() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        let term = try #require(cluster.etcd.leader?.term)
        cluster.clock.stepWallClock(by: .seconds(3600))
        try await cluster.run(for: .seconds(15))
        cluster.clock.stepWallClock(by: .seconds(-7200))
        try await cluster.run(for: .seconds(15))
        #expect(cluster.servers.callLog().isEmpty, "\(cluster.log.text)")
        #expect(cluster.etcd.leader?.term == term && cluster.servers.writable == ["a"])
    }

    /// A service manager restarts the primary's agent (SIGTERM, then a new process): with
    /// the watchdog guarding the lease this is no failover, and no term changes.
    @Test func agentRestartUnderTheWatchdogIsNoFailover() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(20))
        let term = try #require(cluster.etcd.leader?.term)
        try await cluster.stopAgent("a")
        try await cluster.run(for: .seconds(2))
        await cluster.startAgent("a")
        try await cluster.run(for: .seconds(30))
        #expect(cluster.etcd.leader?.node == "a" && cluster.etcd.leader?.term == term, "\(cluster.log.text)")
        #expect(cluster.servers.writable == ["a"])
        #expect(cluster.servers.callLog().isEmpty, "\(cluster.servers.callLog())")
    }

    /// An agent that stays stopped (SIGTERM, never restarted) leaves its database to the
    /// watchdog, which fences it at the lease deadline; then the standby takes over.
    @Test func agentThatStaysStoppedIsFencedByItsWatchdog() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(20))
        try await cluster.stopAgent("a")
        try await cluster.run(for: .seconds(15))
        #expect(cluster.servers.callLog("a") == ["fence"], "\(cluster.log.text)")
        #expect(!cluster.log.lines(containing: "a-watchdog critical agent missed its lease deadline").isEmpty)
        #expect(cluster.servers.writable == ["b"])
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// Without a watchdog a stopping leader fences and releases: the standby takes over at
    /// once, never alongside it.
    @Test func stoppedLeaderWithoutWatchdogHandsOverSafely() async throws {
        let cluster = try await AgentCluster.bootstrapped(watchdogs: false)
        defer { cluster.close() }
        try await cluster.run(until: .seconds(20))
        try await cluster.stopAgent("a")
        try await cluster.run(for: .seconds(10))
        #expect(cluster.servers.callLog("a") == ["fence"])
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty)
    }

    /// A record this version cannot read (a newer agent's member, a stray write) is skipped:
    /// the cluster keeps running and still fails over.
    @Test func unreadableRecordsDoNotStopTheCluster() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        cluster.etcd.put("members/c", Data(#"{"name":"c","role":"witness","schema":3}"#.utf8))
        cluster.etcd.put("sync", Data("not json".utf8))
        try await cluster.run(until: .seconds(20))
        #expect(cluster.etcd.leader?.node == "a")
        await cluster.loseHost("a")
        try await cluster.run(for: .seconds(20))
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
        #expect(!cluster.log.lines(containing: "skipping an etcd record").isEmpty)
        #expect(cluster.safetyViolations.isEmpty)
    }

    /// A frozen primary (it accepts connections, answers nothing) is failed over like a
    /// dead one, and fenced first.
    @Test func frozenPrimaryIsFencedAndReplaced() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(20))
        cluster.servers.change("a") { $0.frozen = true }
        try await cluster.run(for: .seconds(20))
        #expect(cluster.servers.callLog("a").first == "fence", "\(cluster.log.text)")
        #expect(cluster.servers.writable == ["b"])
        #expect(cluster.safetyViolations.isEmpty)
    }

    /// A stalled primary whose agent is also cut off from etcd: the server answers no health
    /// check, but it may wake at any moment, so its lease deadline fences it all the same.
    @Test func stalledPrimaryCutOffFromEtcdIsFencedAtTheDeadline() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(20))
        cluster.servers.change("a") { $0.frozen = true }
        cluster.etcd.cutOff(["a"])
        cluster.servers.isolate(["a"])
        try await cluster.run(for: .seconds(20))
        #expect(cluster.servers.callLog("a").contains("fence"), "\(cluster.log.text)")
        #expect(cluster.servers.writable == ["b"])
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// Fencing fails (pg_ctl cannot stop the server): the key is kept, so no standby is
    /// promoted beside a server that may still take writes, and an operator is asked to stop
    /// it; once stopped, the next loop fences and releases, and the standby takes over.
    @Test func failedFenceKeepsTheKey() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(20))
        cluster.servers.change("a") {
            $0.frozen = true; $0.fenceFails = true
        }
        try await cluster.run(for: .seconds(20))
        #expect(cluster.servers.callLog("a").filter { $0 == "fence" }.count > 5, "fencing is tried again every loop")
        #expect(cluster.becameWritable("b", after: .seconds(20)) == nil, "\(cluster.log.text)")
        #expect(await cluster.agent("a")?.currentHold == .fenceFailed(node: "a"))
        cluster.servers.change("a") { $0.running = false }  // the operator stops it by hand
        try await cluster.run(for: .seconds(10))
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty)
    }
}
