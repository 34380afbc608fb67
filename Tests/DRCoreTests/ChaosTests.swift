import DRCore
import Testing

@Suite struct ChaosTests {
    typealias Ack = ChaosChecker.Ack
    static let checker = ChaosChecker(synchronous: false, rpo: 5, recoveryBudget: 60)

    @Test func aSeedReplaysItsScheduleAndFaultsStayWithinTheirBounds() {
        let plan = ChaosPlan.generate(seed: 42, duration: 300, nodes: ["pg1", "pg2"])
        #expect(plan == ChaosPlan.generate(seed: 42, duration: 300, nodes: ["pg1", "pg2"]))
        #expect(plan != ChaosPlan.generate(seed: 43, duration: 300, nodes: ["pg1", "pg2"]))
        #expect(!plan.steps.isEmpty && plan.steps.allSatisfy { $0.at < 300 })
        for step in plan.steps {
            let overlapping = plan.steps.filter { $0.fault.lasts && $0.at <= step.at && $0.at + $0.healAfter > step.at && $0 != step }
            #expect(overlapping.count < 2, "at most two lasting faults at once: \(step)")
            #expect(!overlapping.contains { $0.node == step.node }, "one fault per node at a time: \(step)")
            #expect(step.fault.lasts ? (3...15).contains(step.healAfter) : step.healAfter == 0)
        }
        #expect(ChaosPlan.generate(seed: 1, duration: 300, nodes: ["pg1"], faults: [.freezeAgent]).steps.allSatisfy { $0.fault == .freezeAgent })
    }

    @Test func anOldTimelineWritingAfterANewOneIsASplitBrain() {
        let clean = [
            Ack(id: 1, node: "pg1", timeline: 1, sentAt: 1.0, ackedAt: 1.01), Ack(id: 2, node: "pg2", timeline: 2, sentAt: 5.0, ackedAt: 5.01),
            Ack(id: 3, node: "pg1", timeline: 1, sentAt: 5.005, ackedAt: 5.02),
        ]
        #expect(Self.checker.splitBrain(clean).passed, "sent before the newer write came back: latency, not proof")
        let brain = clean + [Ack(id: 4, node: "pg1", timeline: 1, sentAt: 6.0, ackedAt: 6.01)]
        let verdict = Self.checker.splitBrain(brain)
        #expect(!verdict.passed && verdict.detail.contains("pg1 (timeline 1) acknowledged write 4"))
        let failback = clean + [Ack(id: 5, node: "pg1", timeline: 3, sentAt: 9.0, ackedAt: 9.01)]
        #expect(Self.checker.splitBrain(failback).passed, "the old node promoted again on a newer timeline is no split brain")
    }

    @Test func lossesAreJudgedPerAbandonedTimelineAgainstTheRPO() {
        let acks =
            (1...10).map { Ack(id: Int64($0), node: "pg1", timeline: 1, sentAt: Double($0), ackedAt: Double($0) + 0.01) }
            + [Ack(id: 11, node: "pg2", timeline: 2, sentAt: 12, ackedAt: 12.01)]
        #expect(Self.checker.loss(acks, survivors: Set(1...11)).passed)
        let small = Self.checker.loss(acks, survivors: Set([1, 2, 3, 4, 5, 6, 7, 8, 11]))
        #expect(small.passed && small.detail.contains("timeline 1: 2 lost over 2.00 s"), "\(small.detail)")
        #expect(!Self.checker.loss(acks, survivors: Set([1, 2, 11])).passed, "8 s of writes lost beyond a 5 s RPO")
        let sync = ChaosChecker(synchronous: true, rpo: 0, recoveryBudget: 60)
        #expect(!sync.loss(acks, survivors: Set(1...10)).passed, "synchronous mode loses nothing")
        #expect(!Self.checker.loss(acks, survivors: nil).passed)
    }

    @Test func recoveryIsMeasuredFromTheLastHeal() {
        #expect(Self.checker.recovery(lastHeal: 100, settled: .healthy(at: 130)).passed)
        #expect(!Self.checker.recovery(lastHeal: 100, settled: .healthy(at: 170)).passed)
        #expect(!Self.checker.recovery(lastHeal: 100, settled: .never).passed)
        #expect(Self.checker.recovery(lastHeal: 100, settled: .operatorState(at: 110, why: "synchronous: no standby recorded")).passed)
    }

    @Test func withoutAPrimaryLossesAreJudgedOnlyInAnOperatorState() {
        let acks = [Ack(id: 1, node: "pg1", timeline: 1, sentAt: 1, ackedAt: 1.01)]
        let waiting = Self.checker.check(acks: acks, survivors: nil, lastHeal: 10, settled: .operatorState(at: 12, why: "x"))
        #expect(!waiting.contains { !$0.passed } && waiting[1].detail.hasPrefix("not judged"))
        let never = Self.checker.check(acks: acks, survivors: nil, lastHeal: 10, settled: .never)
        #expect(never.contains { !$0.passed })
    }

    @Test func everyNewTimelineTheClientsSawNeedsAPromotionInTheHistory() {
        let acks = [
            Ack(id: 1, node: "pg1", timeline: 1, sentAt: 1, ackedAt: 1.01), Ack(id: 2, node: "pg2", timeline: 2, sentAt: 5, ackedAt: 5.01),
            Ack(id: 3, node: "pg1", timeline: 3, sentAt: 9, ackedAt: 9.01), Ack(id: 4, node: "pg1", timeline: 3, sentAt: 9.1, ackedAt: 9.11),
        ]
        #expect(Self.checker.history(acks, promotions: ["pg2", "pg1"]).passed)
        #expect(Self.checker.history(acks, promotions: ["pg2", "pg1", "pg2"]).passed, "a promotion no client reached is no disagreement")
        let missing = Self.checker.history(acks, promotions: ["pg2"])
        #expect(!missing.passed && missing.detail.contains("pg1 acknowledged writes on 1 new timeline(s) (3) but history records 0"))
        #expect(Self.checker.history([], promotions: []).passed)
    }

    /// The shrinker keeps only the steps the violation needs, within its budget of campaigns.
    @Test func shrinkingKeepsTheStepsTheViolationNeeds() async {
        let steps = (0..<9).map { ChaosPlan.Step(at: Double($0) * 10, fault: .freezeAgent, node: "pg\($0)", healAfter: 5) }
        let plan = ChaosPlan(seed: 7, steps: steps)
        func fails(_ candidate: ChaosPlan) -> Bool { Set(["pg2", "pg6"]).isSubset(of: candidate.steps.map(\.node)) }
        let shrunk = await ChaosShrinker.shrink(plan, budget: 50) { fails($0) }
        #expect(shrunk.plan.steps.map(\.node) == ["pg2", "pg6"])
        #expect(shrunk.plan.steps.map(\.at) == [20, 60], "times kept")
        #expect(shrunk.tries <= 50)
        let bounded = await ChaosShrinker.shrink(plan, budget: 2) { fails($0) }
        #expect(bounded.tries == 2 && fails(bounded.plan))
        let unshrinkable = await ChaosShrinker.shrink(plan, budget: 50) { $0.steps.count == 9 }
        #expect(unshrinkable.plan == plan)
    }

    @Test func theReportPageShowsVerdictsReplayAndTimeline() {
        let acks = [Ack(id: 1, node: "pg1", timeline: 1, sentAt: 1, ackedAt: 1.01), Ack(id: 2, node: "pg2", timeline: 2, sentAt: 25, ackedAt: 25.01)]
        let plan = ChaosPlan(seed: 3, steps: [.init(at: 10, fault: .isolateRegion, node: "pg1", healAfter: 8)])
        let report = ChaosReport(
            seed: 3, mode: "async", duration: 45, etcdMembers: 3, plan: plan, events: [.init(at: 10, text: "inject isolate-region pg1 <for 8 s>")],
            lastHeal: 18, settledAt: 21.5, acks: acks,
            properties: [.init(name: "no split brain", passed: true, detail: "ok"), .init(name: "recovers after the faults", passed: false, detail: "never")])
        let page = ChaosReportPage.render(report)
        #expect(page.contains("FAILED") && page.contains("✘</td><td>recovers after the faults"))
        #expect(page.contains("drctl-lab chaos --seed 3 --duration 45 --mode async --etcd-members 3"))
        #expect(page.contains("isolate-region pg1") && page.contains("writes on pg1") && page.contains("writes on pg2"))
        #expect(page.contains("timeline 2") && page.contains("last heal 18.0 s") && page.contains("settled 21.5 s"))
        #expect(page.contains("&lt;for 8 s&gt;"), "event text is escaped")
        #expect(!page.contains("<script"), "self-contained, no scripts")
    }

    @Test func anEtcdOutageAloneMustNotPauseWritesForALeaseTTL() {
        // Writes every 100 ms from 0 to 30 s, except where `gap` leaves a hole.
        func acks(gap: ClosedRange<Double>? = nil) -> [ChaosChecker.Ack] {
            stride(from: 0.0, to: 30, by: 0.1).filter { t in gap.map { !$0.contains(t) } ?? true }.enumerated().map { index, t in
                ChaosChecker.Ack(id: Int64(index), node: "pg1", timeline: 1, sentAt: t, ackedAt: t)
            }
        }
        let kill = ChaosPlan.Step(at: 10, fault: .killEtcd, node: "pg1", healAfter: 8)
        let check = { (acks: [ChaosChecker.Ack], steps: [ChaosPlan.Step], members: Int) in
            ChaosChecker.etcdOutagesStoppedNoWrites(acks: acks, steps: steps, etcdMembers: members, leaseTTL: 2)
        }
        #expect(check(acks(), [kill], 1).passed)
        let stopped = check(acks(gap: 11.5...18), [kill], 1)
        #expect(!stopped.passed, "\(stopped.detail)")
        #expect(stopped.detail.contains("kill-etcd pg1"))
        #expect(check(acks(gap: 11.5...18), [kill], 3).detail.hasPrefix("not judged"), "with 3 members one killed is not an outage")
        let reboot = ChaosPlan.Step(at: 16, fault: .reboot, node: "pg1", healAfter: 0)
        #expect(check(acks(gap: 11.5...18), [kill, reboot], 1).detail.hasPrefix("not judged"), "another fault explains the pause")
        let cut = ChaosPlan.Step(at: 10, fault: .cutEtcd, node: "pg2", healAfter: 1)
        #expect(!check(acks(gap: 10.5...13), [cut], 1).passed, "a short outage is judged over a whole TTL")
    }
}

/// The campaign reports its longest stretch without an acknowledged write, with the faults
/// that ran during it, and fails a stretch beyond the RTO that nothing explains.
@Suite struct WriteGapTests {
    static func acks(at times: [Double]) -> [ChaosChecker.Ack] {
        times.enumerated().map { ChaosChecker.Ack(id: Int64($0.offset), node: "pg1", timeline: 1, sentAt: $0.element - 0.01, ackedAt: $0.element) }
    }

    @Test func theLongestStretchAndItsFaultsAreFound() {
        let steps = [
            ChaosPlan.Step(at: 10, fault: .cutEtcd, node: "pg1", healAfter: 5), ChaosPlan.Step(at: 40, fault: .killNode, node: "pg2", healAfter: 3),
        ]
        let acks = Self.acks(at: [1, 2, 9.5, 23.5, 24, 29, 36, 39, 41])
        let gaps = ChaosChecker.writeGaps(acks: acks, steps: steps, over: 1)
        #expect(gaps.map(\.from) == [9.5, 2, 29, 24, 36, 39], "longest first")
        #expect(gaps[0].length == 14 && gaps[0].faults == [steps[0]])
        #expect(gaps[5].faults == [steps[1]] && gaps[1].faults.isEmpty)
        let reported = ChaosChecker.judgeWriteGaps(acks: acks, steps: steps, samples: [], nodes: ["pg1", "pg2"], rto: 10)
        #expect(reported.detail.hasPrefix("longest 14.00 s, from 9.5 s to 23.5 s (RTO 10 s)"), "\(reported.detail)")
        #expect(reported.detail.contains("cut-etcd pg1 at 10.0 s"))
        #expect(!reported.passed, "pg2 was free to take over: 14 s is beyond the RTO")
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var steps: [ChaosPlan.Step] = []
        var samples: [ChaosChecker.ClusterSample] = []
        var passed: Bool
        var mentions: String? = nil
    }

    static func kill(_ node: String, _ at: Double, _ heal: Double) -> ChaosPlan.Step { ChaosPlan.Step(at: at, fault: .killNode, node: node, healAfter: heal) }

    /// Writes at 0–10 s and from 50 s: one gap of 40 s, judged against an RTO of 30 s.
    @Test(arguments: [
        Row(testDescription: "nothing explains it", passed: false, mentions: "40.0 s of it (10.0–50.0 s) unexplained"),
        Row(
            testDescription: "a healthy standby idle while only the primary was down", steps: [kill("pg1", 10, 40)], passed: false,
            mentions: "kill-node pg1 at 10.0 s"),
        Row(
            testDescription: "both nodes down until 25 s, a failover in 25 s after", steps: [kill("pg1", 10, 40), kill("pg2", 12, 13)], passed: true,
            mentions: "every database node under a fault"),
        Row(testDescription: "both nodes down only a moment: 35 s unexplained after", steps: [kill("pg1", 10, 40), kill("pg2", 12, 3)], passed: false),
        Row(
            testDescription: "paused for 20 s of it",
            samples: [.init(at: 5, readable: true, leader: "pg1"), .init(at: 15, readable: true, paused: true), .init(at: 35, readable: true, leader: "pg1")],
            passed: true, mentions: "paused for maintenance"),
        Row(
            testDescription: "the key free while a standby waits out the cooldown",
            samples: [.init(at: 12, readable: true, holds: ["pg2: cooldown"]), .init(at: 30, readable: true, leader: "pg2")], passed: true,
            mentions: "waiting for an operator (pg2: cooldown)"),
        Row(
            testDescription: "a hold while a leader holds the key explains nothing",
            samples: [.init(at: 12, readable: true, leader: "pg1", holds: ["pg2: fenced"]), .init(at: 30, readable: true, leader: "pg1")], passed: false),
        Row(
            testDescription: "etcd unreadable until 22 s",
            samples: [.init(at: 10, readable: false), .init(at: 22, readable: true, leader: "pg1")], passed: true, mentions: "etcd unreadable"),
    ])
    func gapsBeyondTheRTOAreJudged(_ row: Row) {
        let acks = Self.acks(at: Array(stride(from: 0.0, through: 10, by: 1)) + [50, 51])
        let judged = ChaosChecker.judgeWriteGaps(acks: acks, steps: row.steps, samples: row.samples, nodes: ["pg1", "pg2"], rto: 30)
        #expect(judged.passed == row.passed, "\(judged.detail)")
        if let mentions = row.mentions { #expect(judged.detail.contains(mentions), "\(judged.detail)") }
    }

    @Test func gapsWithinTheRTOPassUnjudged() {
        let judged = ChaosChecker.judgeWriteGaps(acks: Self.acks(at: [0, 1, 20, 21]), steps: [], samples: [], nodes: ["pg1"], rto: 30)
        #expect(judged.passed)
        #expect(!judged.detail.contains("beyond the RTO"), "\(judged.detail)")
    }
}
