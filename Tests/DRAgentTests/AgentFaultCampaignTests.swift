import DRAgentTesting
import DRCore
import Foundation
import Testing

/// Random, overlapping faults against real agents on the manual clock: each seed draws a
/// schedule (kills, crashes, freezes, reboots, partitions, etcd outages and stalls, lost
/// answers, slow promotions, wall-clock steps), each fault healed after a random time, and
/// the invariant is checked at every step. Even seeds run with failsafe. A failing seed is printed with its schedule and
/// replays as it failed (`AGENT_CAMPAIGN_SEED=N swift test --filter AgentFaultCampaign`).
@Suite struct AgentFaultCampaignTests {
    static let seeds: [UInt64] = {
        if let one = ProcessInfo.processInfo.environment["AGENT_CAMPAIGN_SEED"].flatMap(UInt64.init) { return [one] }
        let count = ProcessInfo.processInfo.environment["AGENT_CAMPAIGN_SEEDS"].flatMap(Int.init) ?? 40
        return (1...UInt64(count)).map { $0 }
    }()

    @Test(arguments: seeds)
    func noScheduleYieldsTwoWritableServers(seed: UInt64) async throws {
        var random = SeededGenerator(seed: seed)
        let autoRejoin = Bool.random(using: &random)
        // Every other seed with failsafe (drawn from the seed, so the schedules stay as they were).
        let failsafe = seed % 2 == 0
        let settings = (autoRejoin ? ["auto_rejoin: true"] : []) + (failsafe ? ["failsafe: true"] : [])
        let cluster = try AgentCluster(yaml: AgentCluster.configuration(nodes: ["a", "b", "c"], failover: settings))
        defer { cluster.close() }
        await cluster.startAll()
        try await cluster.run(until: .seconds(8))
        var schedule: [String] = ["auto_rejoin: \(autoRejoin)", "failsafe: \(failsafe)"]
        var heals: [(at: AgentInstant, what: String, heal: () async -> Void)] = []
        var next = AgentInstant.seconds(10)
        let end = AgentInstant.seconds(150)
        while cluster.now < end {
            if cluster.now >= next {
                let fault = Fault.allCases.randomElement(using: &random)!
                let node = ["a", "b", "c"].randomElement(using: &random)!
                let healAfter = Duration.milliseconds(Int64.random(in: 1_000...20_000, using: &random))
                schedule.append("\(cluster.now) \(fault) \(node) for \(healAfter)")
                if let heal = await fault.inject(into: cluster, node: node, random: &random) {
                    heals.append((cluster.now + healAfter, "\(fault) \(node)", heal))
                }
                next = cluster.now + .milliseconds(Int64.random(in: 2_000...12_000, using: &random))
            }
            for (index, pending) in heals.enumerated().reversed() where pending.at <= cluster.now {
                await pending.heal()
                heals.remove(at: index)
            }
            try await cluster.run(for: .seconds(1))
        }
        for pending in heals { await pending.heal() }
        try await cluster.run(for: .seconds(30))
        #expect(cluster.safetyViolations.isEmpty, "seed \(seed): \(cluster.safetyViolations)\nschedule:\n\(schedule.joined(separator: "\n"))\n\(cluster.log.text)")
    }

    enum Fault: CaseIterable {
        case loseHost, killAgent, restartAgent, crashServer, freezeServer, reboot, isolateRegion, cutEtcd
        case etcdDown, loseEtcdAnswers, failRenewals, slowPromotion, stepWallClock

        /// Injects the fault; returns what heals it (nil: nothing to heal).
        func inject(into cluster: AgentCluster, node: String, random: inout SeededGenerator) async -> (() async -> Void)? {
            switch self {
            case .loseHost:
                await cluster.loseHost(node)
                return { await cluster.restoreHost(node) }
            case .killAgent:
                await cluster.killAgent(node)
                return { await cluster.startAgent(node) }
            case .restartAgent:
                try? await cluster.stopAgent(node)
                return { await cluster.startAgent(node) }
            case .crashServer:
                cluster.servers.change(node) { $0.running = false }
                return { cluster.servers.boot(node) }
            case .freezeServer:
                cluster.servers.change(node) { $0.frozen = true }
                return { cluster.servers.change(node) { $0.frozen = false } }
            case .reboot:
                await cluster.loseHost(node)
                await cluster.restoreHost(node)
                return nil
            case .isolateRegion:
                let others = ["a", "b", "c"].filter { $0 != node }
                cluster.etcd.cutOff([node])
                cluster.servers.isolate([node])
                cluster.cutAgentLinks(from: node, to: others)
                for other in others { cluster.cutAgentLinks(from: other, to: [node]) }
                return {
                    cluster.etcd.cutOff([])
                    cluster.servers.isolate([])
                    cluster.cutAgentLinks(from: node, to: others, cut: false)
                    for other in others { cluster.cutAgentLinks(from: other, to: [node], cut: false) }
                }
            case .cutEtcd:
                cluster.etcd.cutOff([node])
                return { cluster.etcd.cutOff([]) }
            case .etcdDown:
                cluster.etcd.down = true
                return { cluster.etcd.down = false }
            case .loseEtcdAnswers:
                cluster.etcd.loseAnswers(to: [node])
                return { cluster.etcd.loseAnswers(to: []) }
            case .failRenewals:
                cluster.etcd.fail([.keepAlive])
                return { cluster.etcd.fail([]) }
            case .slowPromotion:
                let takes = Duration.milliseconds(Int64.random(in: 2_000...15_000, using: &random))
                cluster.servers.change(node) { $0.promotionTakes = takes }
                return { cluster.servers.change(node) { $0.promotionTakes = .milliseconds(200) } }
            case .stepWallClock:
                cluster.clock.stepWallClock(by: .seconds(Int64.random(in: -3_600...3_600, using: &random)))
                return nil
            }
        }
    }
}
