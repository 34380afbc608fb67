import DRCore
import Testing

/// The leader's slot bookkeeping: a slot for every other configured node, none left behind
/// for removed ones, and nothing dropped that something else may still need.
@Suite struct ReplicationSlotsTests {
    static func slot(_ name: String, type: String = "physical", active: Bool = false) -> ReplicationSlot {
        ReplicationSlot(name: name, type: type, active: active, restartLSN: nil, walStatus: "reserved")
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var existing: [ReplicationSlot]
        var nodes: [String] = ["pg-1", "pg-2", "pg-3"]
        var ignored: Set<String> = []
        var create: [String] = []
        var drop: [String] = []
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        .init(name: "every other node has its slot: nothing to do", existing: [slot("pg_2", active: true), slot("pg_3")]),
        .init(name: "a missing slot is created, named as the node streams", existing: [slot("pg_2", active: true)], create: ["pg_3"]),
        .init(name: "a fresh primary creates them all, never its own", existing: [], create: ["pg_2", "pg_3"]),
        .init(name: "a removed node's inactive slot is dropped", existing: [slot("pg_2"), slot("pg_3"), slot("pg_9")], drop: ["pg_9"]),
        .init(name: "a slot still streaming is kept, configured or not", existing: [slot("pg_2"), slot("pg_3"), slot("pg_9", active: true)]),
        .init(name: "logical slots are someone else's", existing: [slot("pg_2"), slot("pg_3"), slot("cdc", type: "logical")]),
        .init(name: "ignored slots are never dropped", existing: [slot("pg_2"), slot("pg_3"), slot("receivewal")], ignored: ["receivewal"]),
        .init(name: "the leader's own old slot goes (it streams from nobody)", existing: [slot("pg_1"), slot("pg_2"), slot("pg_3")], drop: ["pg_1"]),
        .init(name: "cold nodes are not listed: their slots go too", existing: [slot("pg_2"), slot("pg_3")], nodes: ["pg-1", "pg-2"], drop: ["pg_3"]),
    ]

    @Test(arguments: rows)
    func plan(_ row: Row) {
        let plan = ReplicationSlots.plan(existing: row.existing, leader: "pg-1", nodes: row.nodes, ignored: row.ignored)
        #expect(plan.create == row.create)
        #expect(plan.drop == row.drop)
    }

    static func leaderView(state: LocalDatabase.State = .primary, slots: [ReplicationSlot]) -> ClusterView {
        var local = LocalDatabase(state: state, failedChecks: 0, lsn: LSN(1000))
        local.slots = slots
        return ClusterView(
            me: "pg-1", local: local, etcdReachable: true, leader: LeaderRecord(node: "pg-1", term: 7, lease: 1), members: [], primaryProgress: nil,
            lease: LeaseBookkeeping(term: 7, ttl: .seconds(5), lastConfirmedRenewalSentAt: .seconds(9)))
    }

    static var policy: FailoverPolicy {
        var policy = FailoverPolicy(rpo: .seconds(5))
        policy.slotNodes = ["pg-1", "pg-2", "pg-3"]
        return policy
    }

    @Test func theLeaderKeepsSlotsUnderItsTermOnlyWhileItsDatabaseIsPrimary() {
        let decision = decide(Self.leaderView(slots: [Self.slot("pg_2"), Self.slot("pg_9")]), policy: Self.policy, now: .seconds(10))
        #expect(decision.rule == "leader-renews")
        #expect(decision.actions == [.renewLease(term: 7), .keepSlots(create: ["pg_3"], drop: ["pg_9"], term: 7)])
        let settled = decide(Self.leaderView(slots: [Self.slot("pg_2"), Self.slot("pg_3")]), policy: Self.policy, now: .seconds(10))
        #expect(settled.actions == [.renewLease(term: 7)])
        // Failing below the threshold: no writes to a database that may not answer.
        let down = decide(Self.leaderView(state: .down, slots: []), policy: Self.policy, now: .seconds(10))
        #expect(!down.actions.contains { if case .keepSlots = $0 { true } else { false } })
    }
}
