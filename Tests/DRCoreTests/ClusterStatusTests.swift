import DRCore
import Foundation
import Testing

@Suite struct ClusterStatusTests {
    static let config: ClusterConfig = {
        do {
            return try ConfigLoader.load(
                yaml: """
                    cluster: t
                    objectives: {rto: 30s, rpo: 5s}
                    coordination: {endpoints: ["http://127.0.0.1:2379"]}
                    regions:
                      - {name: r1, role: primary, nodes: [{name: a, conninfo: "host=127.0.1.1 port=5432", data_dir: /var/lib/postgresql/15/a}]}
                      - {name: r2, role: hot-standby, nodes: [{name: b, conninfo: "host=127.0.2.1 port=5433", data_dir: /var/lib/postgresql/15/b}]}
                      - {name: r3, role: cold, nodes: []}
                    """, file: "t.yaml")
        } catch {
            preconditionFailure("fixture config must load: \(error)")
        }
    }()

    static func primary(lsn: UInt64 = 1000, timeline: Int = 1, replayLag: Double? = nil) -> ProbeResult {
        .primary(
            PrimaryState(
                serverVersion: 150000, timeline: timeline, currentLSN: LSN(lsn),
                replication: [
                    ReplicationConnection(
                        applicationName: "b", clientAddress: "127.0.2.1", state: "streaming", syncState: "async",
                        sentLSN: LSN(lsn), writeLSN: LSN(lsn), flushLSN: LSN(lsn), replayLSN: nil,
                        writeLag: nil, flushLag: nil, replayLag: replayLag)
                ],
                slots: []))
    }

    static func standby(replay: UInt64 = 1000, receiver: String? = "streaming", timeline: Int = 1, sinceReplay: Double? = 0.5, paused: Bool = false) -> ProbeResult {
        .standby(
            StandbyState(
                serverVersion: 150000, timeline: timeline, receiveLSN: LSN(replay), replayLSN: LSN(replay),
                secondsSinceLastReplay: sinceReplay, walReceiverStatus: receiver, upstreamHost: "127.0.1.1",
                upstreamPort: 5432, replayPaused: paused, slots: []))
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var a: ProbeResult?
        var b: ProbeResult?
        var verdict: ClusterVerdict
        var problem: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        .init(name: "primary and caught-up standby", a: primary(), b: standby(), verdict: .healthy),
        .init(name: "standby down", a: primary(), b: .unreachable(reason: "refused"), verdict: .degraded, problem: "b is unreachable: refused"),
        .init(name: "standby probe failed", a: primary(), b: .failed(reason: "permission denied"), verdict: .degraded, problem: "b answered but its probe failed"),
        .init(name: "standby not streaming", a: primary(), b: standby(receiver: nil), verdict: .degraded, problem: "b is not streaming (WAL receiver: none)"),
        .init(name: "replay paused", a: primary(), b: standby(paused: true), verdict: .degraded, problem: "b has WAL replay paused"),
        .init(name: "lag beyond RPO", a: primary(lsn: 5000, replayLag: 7.5), b: standby(replay: 1000), verdict: .degraded, problem: "b is 7.5s behind, beyond the RPO 5s"),
        .init(name: "lag within RPO", a: primary(lsn: 5000, replayLag: 0.2), b: standby(replay: 1000), verdict: .healthy),
        .init(name: "standby on another timeline", a: primary(timeline: 2), b: standby(timeline: 1), verdict: .degraded, problem: "b is on timeline 1, the primary on 2"),
        .init(name: "primary down, standby up", a: .unreachable(reason: "timeout"), b: standby(receiver: nil), verdict: .noPrimary, problem: "no reachable node accepts writes"),
        .init(name: "everything down", a: .unreachable(reason: "refused"), b: .unreachable(reason: "refused"), verdict: .noPrimary),
        .init(name: "two primaries", a: primary(), b: primary(), verdict: .splitBrain, problem: "2 nodes accept writes: a, b"),
        .init(name: "node not probed", a: primary(), b: nil, verdict: .degraded, problem: "b was not probed"),
    ]

    @Test(arguments: cases)
    func verdict(_ c: Case) {
        let observations = [("a", c.a), ("b", c.b)].compactMap { name, result in result.map { NodeObservation(node: name, result: $0) } }
        let report = ClusterStatus.evaluate(config: Self.config, observations: observations)
        #expect(report.verdict == c.verdict)
        #expect(report.isHealthy == (c.verdict == .healthy))
        #expect(report.nodes.map(\.name) == ["a", "b"], "one row per configured node, in config order")
        if let problem = c.problem {
            #expect(report.problems.contains { $0.contains(problem) }, "\(report.problems)")
        }
        if c.verdict == .healthy { #expect(report.problems.isEmpty) }
    }

    @Test func lagInBytesAndSeconds() {
        let report = ClusterStatus.evaluate(
            config: Self.config,
            observations: [
                NodeObservation(node: "a", result: Self.primary(lsn: 100 * 1024 * 1024 + 1000, replayLag: nil)),
                NodeObservation(node: "b", result: Self.standby(replay: 1000, sinceReplay: 3.25)),
            ])
        let b = report.nodes[1]
        #expect(b.role == .standby)
        #expect(b.lagBytes == 100 * 1024 * 1024)
        #expect(b.lagSeconds == 3.25, "falls back to the standby's time since last replay when replay_lag is NULL")
        #expect(b.syncState == "async")
        #expect(b.host == "127.0.2.1" && b.port == 5433)
    }

    @Test func caughtUpIsZeroSecondsEvenWhenIdle() {
        let report = ClusterStatus.evaluate(
            config: Self.config,
            observations: [
                NodeObservation(node: "a", result: Self.primary(lsn: 1000)),
                NodeObservation(node: "b", result: Self.standby(replay: 1000, sinceReplay: 3600)),
            ])
        #expect(report.nodes[1].lagBytes == 0)
        #expect(report.nodes[1].lagSeconds == 0)
    }

    @Test func aStandbyAheadOfAnEarlierPrimaryProbeIsNotBehind() {
        let report = ClusterStatus.evaluate(
            config: Self.config,
            observations: [
                NodeObservation(node: "a", result: Self.primary(lsn: 1000)),
                NodeObservation(node: "b", result: Self.standby(replay: 1200)),
            ])
        #expect(report.nodes[1].lagBytes == 0)
    }

    @Test func downNodesAreUnreachableWithTheReason() {
        let report = ClusterStatus.evaluate(
            config: Self.config,
            observations: [
                NodeObservation(node: "a", result: Self.primary()),
                NodeObservation(node: "b", result: .unreachable(reason: "Connection refused")),
            ])
        #expect(report.nodes[1].role == .down)
        #expect(report.nodes[1].reachable == false)
        #expect(report.nodes[1].error == "Connection refused")
        #expect(report.nodes[1].lagBytes == nil)
    }
}

@Suite struct ClusterStatusCoordinationTests {
    static func member(_ name: String, _ role: NodeRole, hold: String? = nil) -> MemberRecord {
        var record = MemberRecord(
            name: name, region: "r", role: role, timeline: 1, lsn: nil, replayLSN: nil, lagBytes: nil,
            healthy: role != .fenced, failedChecks: 0, publishedAtMillis: 0)
        record.hold = hold
        return record
    }

    @Test func reportsLeaderAndTerm() {
        let report = ClusterStatus.evaluate(
            config: ClusterStatusTests.config,
            observations: [
                NodeObservation(node: "a", result: ClusterStatusTests.primary()), NodeObservation(node: "b", result: ClusterStatusTests.standby()),
            ], coordination: .known(leader: LeaderRecord(node: "a", term: 42, lease: 1), members: [], paused: true))
        #expect(report.verdict == .healthy)
        #expect(report.leader == "a" && report.term == 42 && report.paused)
    }

    @Test func aHeldCandidateMakesTheVerdictManualIntervention() {
        let report = ClusterStatus.evaluate(
            config: ClusterStatusTests.config,
            observations: [
                NodeObservation(node: "a", result: .unreachable(reason: "refused")), NodeObservation(node: "b", result: ClusterStatusTests.standby()),
            ], coordination: .known(leader: nil, members: [Self.member("a", .fenced), Self.member("b", .standby, hold: "manual intervention required: beyond the RPO")], paused: false))
        #expect(report.verdict == .manualIntervention)
        #expect(report.problems.first == "manual intervention required: beyond the RPO")
        #expect(report.nodes[0].role == .fenced, "a down node its agent fenced shows as fenced")
    }

    /// A node being rebuilt is down for a while by design: status says how far it has come.
    @Test func aStandbyBeingBuiltShowsItsProgress() {
        var building = Self.member("b", .down)
        building.building = CloneProgress(source: .primary, phase: .copying, bytes: 1 << 30, expected: 4 << 30, elapsed: .seconds(20)).description
        let report = ClusterStatus.evaluate(
            config: ClusterStatusTests.config,
            observations: [NodeObservation(node: "a", result: ClusterStatusTests.primary()), NodeObservation(node: "b", result: .unreachable(reason: "refused"))],
            coordination: .known(leader: LeaderRecord(node: "a", term: 3, lease: 1), members: [Self.member("a", .primary), building], paused: false))
        #expect(report.problems.contains("b is being built as a standby from primary: copying 1.0 GiB of ~4.0 GiB (25%), 51.2 MiB/s, 20s"), "\(report.problems)")
    }

    @Test func aWritableNodeWithoutTheKeyIsAProblem() {
        let report = ClusterStatus.evaluate(
            config: ClusterStatusTests.config,
            observations: [
                NodeObservation(node: "a", result: ClusterStatusTests.primary()), NodeObservation(node: "b", result: ClusterStatusTests.standby()),
            ], coordination: .known(leader: LeaderRecord(node: "b", term: 3, lease: 1), members: [], paused: false))
        #expect(report.verdict == .degraded)
        #expect(report.problems.contains { $0.contains("a accepts writes but b holds the leader key") })
    }

    @Test func unreachableEtcdDegradesAHealthyCluster() {
        let report = ClusterStatus.evaluate(
            config: ClusterStatusTests.config,
            observations: [
                NodeObservation(node: "a", result: ClusterStatusTests.primary()), NodeObservation(node: "b", result: ClusterStatusTests.standby()),
            ], coordination: .unreachable("connection refused"))
        #expect(report.verdict == .degraded)
        #expect(report.leader == nil)
    }

    @Test func theAgentsSayWhenTheLeaderRunsInFailsafe() throws {
        let observations = [
            NodeObservation(node: "a", result: ClusterStatusTests.primary()), NodeObservation(node: "b", result: ClusterStatusTests.standby()),
        ]
        let leading = FailsafeStatus(role: .leader, leader: "a", term: 7, sinceMillis: 1_000, confirmedBy: ["b"])
        let member = FailsafeStatus(role: .member, leader: "a", term: 7, sinceMillis: 1_200, confirmedBy: [])
        let down = ClusterStatus.evaluate(
            config: ClusterStatusTests.config, observations: observations, coordination: .unreachable("connection refused"), nowMillis: 13_000,
            failsafe: [member, leading])
        #expect(down.failsafe == leading)
        #expect(
            down.problems.contains("etcd is unreachable (connection refused): running in failsafe for 12s: a stays writable while b confirms it; no automatic failover can happen"), "\(down.problems)")
        let cutOff = ClusterStatus.evaluate(
            config: ClusterStatusTests.config, observations: observations, coordination: .known(leader: nil, members: [], paused: false),
            nowMillis: 13_000, failsafe: [leading])
        #expect(cutOff.verdict == .degraded)
        #expect(cutOff.problems.contains { $0.hasPrefix("a's agent cannot reach etcd: running in failsafe for 12s") }, "\(cutOff.problems)")
        let json = String(decoding: try JSONEncoder().encode(down), as: UTF8.self)
        #expect(json.contains("\"failsafe\":{") && json.contains("\"confirmed_by\":[\"b\"]"), "\(json)")
        let plain = ClusterStatus.evaluate(config: ClusterStatusTests.config, observations: observations, coordination: .unreachable("refused"))
        #expect(plain.failsafe == nil)
        #expect(String(decoding: try JSONEncoder().encode(plain), as: UTF8.self).contains("\"failsafe\":null"), "the key is always present")
    }

    @Test func agentsRunningDifferentFilesDegradeTheVerdictAndAPendingRestartIsShown() throws {
        var a = Self.member("a", .primary), b = Self.member("b", .standby)
        a.configHash = "aaaaaaaaaaaa"
        b.configHash = "bbbbbbbbbbbb"
        guard case .primary(var state) = ClusterStatusTests.primary() else { return }
        state.activity.pendingRestart = true
        let observations = [NodeObservation(node: "a", result: .primary(state)), NodeObservation(node: "b", result: ClusterStatusTests.standby())]
        let leader = LeaderRecord(node: "a", term: 3, lease: 1)
        let drifted = ClusterStatus.evaluate(config: ClusterStatusTests.config, observations: observations, coordination: .known(leader: leader, members: [a, b], paused: false))
        #expect(drifted.verdict == .degraded)
        #expect(drifted.problems == ["the agents run different configuration files (aaaaaaaaaaaa on a; bbbbbbbbbbbb on b): compare them, then `drctl reload` on each host"])
        #expect(drifted.nodes.map(\.pendingRestart) == [true, false])
        #expect(String(decoding: try JSONEncoder().encode(drifted), as: UTF8.self).contains("\"pending_restart\":true"))
        b.configHash = nil  // an agent too old to publish one
        let older = ClusterStatus.evaluate(config: ClusterStatusTests.config, observations: observations, coordination: .known(leader: leader, members: [a, b], paused: false))
        #expect(older.verdict == .healthy, "\(older.problems)")
    }
}
