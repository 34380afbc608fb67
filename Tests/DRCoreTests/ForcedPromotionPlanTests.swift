import DRCore
import Testing

/// `ForcedPromotionPlan`, table-driven: which forced promotions go ahead, what the
/// operator reads before confirming, and what the history keeps.
@Suite struct ForcedPromotionPlanTests {
    static func standby(_ node: String, lsn: UInt64 = 5000, timeline: Int = 2) -> NodeObservation {
        NodeObservation(
            node: node,
            result: .standby(
                StandbyState(
                    serverVersion: 150000, timeline: timeline, receiveLSN: LSN(lsn), replayLSN: LSN(lsn), secondsSinceLastReplay: 0.1,
                    walReceiverStatus: nil, upstreamHost: nil, upstreamPort: nil, replayPaused: false, slots: [])))
    }
    static func primary(_ node: String) -> NodeObservation {
        NodeObservation(node: node, result: .primary(PrimaryState(serverVersion: 150000, timeline: 1, currentLSN: LSN(6000), replication: [], slots: [])))
    }
    static func unreachable(_ node: String) -> NodeObservation { NodeObservation(node: node, result: .unreachable(reason: "connection refused")) }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var target: String
        var observations: [NodeObservation]
        var expected: Result<ForcedPromotionPlan, ForcedPromotionPlan.Refusal>
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(
            name: "the primary's region is gone: its standby goes ahead, the lost node named", target: "pg2",
            observations: [unreachable("pg1"), standby("pg2"), standby("pg3", lsn: 4000)],
            expected: .success(ForcedPromotionPlan(target: "pg2", receivedLSN: LSN(5000), timeline: 2, unreachable: ["pg1"]))),
        Row(
            name: "a node still writable is never promoted beside", target: "pg2", observations: [primary("pg1"), standby("pg2")],
            expected: .failure(.anotherPrimary(target: "pg2", writable: "pg1"))),
        Row(
            name: "a target this host cannot reach is refused", target: "pg2", observations: [unreachable("pg1"), unreachable("pg2")],
            expected: .failure(.notAReachableStandby(node: "pg2"))),
        Row(
            name: "a target that is itself writable is no standby to promote", target: "pg1", observations: [primary("pg1"), standby("pg2")],
            expected: .failure(.notAReachableStandby(node: "pg1"))),
        Row(
            name: "a node whose probe failed counts as unreachable, not as a standby", target: "pg2",
            observations: [NodeObservation(node: "pg3", result: .failed(reason: "timeout")), unreachable("pg1"), standby("pg2")],
            expected: .success(ForcedPromotionPlan(target: "pg2", receivedLSN: LSN(5000), timeline: 2, unreachable: ["pg1", "pg3"]))),
    ]

    @Test(arguments: rows) func decides(_ row: Row) {
        #expect(ForcedPromotionPlan.make(target: row.target, observations: row.observations) == row.expected)
    }

    @Test func theOperatorReadsWhatIsBypassedAndWhoMayStillWrite() throws {
        let plan = try ForcedPromotionPlan.make(target: "pg2", observations: [Self.unreachable("pg1"), Self.standby("pg2")]).get()
        #expect(plan.summary.contains("FORCED promotion of pg2 (received up to \(LSN(5000)), timeline 2)"))
        #expect(plan.summary.contains("no leader lock, no RPO gate; nodes not reachable from here: pg1"))
        #expect(plan.summary.contains("fence it before clients return"))
    }

    @Test func theHistoryKeepsWhoWhyAndWhenItWasWritable() throws {
        let plan = try ForcedPromotionPlan.make(target: "pg2", observations: [Self.standby("pg2")]).get()
        let marker = ForcedPromotionPlan.marker(by: "alice", atMillis: 1_700_000_000_000)
        #expect(marker == "by alice at 1700000000000")
        let record = plan.evidence(
            cluster: "shop", by: "alice", reason: "etcd lost everywhere", atMillis: 1_700_000_000_000, finishedAt: "2026-12-07T17:00:00Z", writableAfter: 1.5)
        #expect(record.term == 0 && record.promoted == "pg2" && record.previousPrimary == nil)
        #expect(record.events.map(\.name) == ["forced promotion issued", "writable"] && record.rtoSeconds == 1.5)
        #expect(record.dataLostBytes == nil, "unknown: no RPO gate ran")
        #expect(record.reason == "forced promotion by alice without coordination: etcd lost everywhere")
        #expect(record.declaredAtMillis == 1_700_000_000_000)
    }
}
