import DRCoordination
import DRCore
import DRLab
import DRPostgres
import Foundation

/// One campaign: a lab of its own, a write load, a seeded schedule of faults injected and
/// healed on time, then the clients' record judged by `ChaosChecker` (never by the agents'
/// own evidence), the lab torn down, and no process of it left behind.
public struct ChaosCampaign: Sendable {
    public struct Settings: Sendable {
        public var seed: UInt64
        /// Seconds during which faults start.
        public var duration: Double
        public var synchronous: Bool
        public var faults: [ChaosFault]
        /// The drctl executable the lab's agents run.
        public var binary: String
        /// Leave the lab running when a property fails, to look at it (`drctl-lab down --dir` ends it).
        public var keepFailedLab = false
        /// etcd members in the lab (1, 3 or 5): with 3, `kill-etcd` costs a member, not etcd.
        public var etcdMembers = 1
        /// `failover.failsafe` in the lab: with one etcd member, `kill-etcd` is then no write outage.
        public var failsafe = false
        /// The schedule to run instead of the seed's (a shrunk one); its seed is reported.
        public var plan: ChaosPlan?

        public init(seed: UInt64, duration: Double, synchronous: Bool, faults: [ChaosFault] = ChaosFault.allCases, binary: String) {
            self.seed = seed
            self.duration = duration
            self.synchronous = synchronous
            self.faults = faults
            self.binary = binary
        }
    }

    public let settings: Settings

    public init(_ settings: Settings) { self.settings = settings }

    public func run(progress: @escaping @Sendable (String) -> Void) async throws -> ChaosReport {
        let dir = "/tmp/drctl-chaos-\(settings.seed)-\(UUID().uuidString.prefix(6).lowercased())"
        progress("lab in \(dir) (\(settings.synchronous ? "synchronous" : "asynchronous"), auto_rejoin\(settings.failsafe ? ", failsafe" : ""))")
        let lab = try await Lab.up(
            dir: dir, agentBinary: settings.binary, etcdMembers: settings.etcdMembers,
            failover: LabFailoverSettings(synchronous: settings.synchronous, autoRejoin: true, failsafe: settings.failsafe))
        var report: ChaosReport
        do {
            report = try await run(on: ChaosNemesis(lab: lab, binary: settings.binary), progress: progress)
        } catch {
            try? await Lab.down(dir: dir)
            throw error
        }
        if settings.keepFailedLab, !report.passed {
            progress("kept the lab for inspection: drctl-lab down --dir \(dir)")
            return report
        }
        try await Lab.down(dir: dir)
        report.properties.append(Self.nothingLeftRunning(dir))
        return report
    }

    /// After `lab down`: no process whose command line names the lab's directory.
    public static func nothingLeftRunning(_ dir: String) -> ChaosChecker.Property {
        let leaked = LabProcesses.containing(dir)
        return ChaosChecker.Property(
            name: "nothing left running", passed: leaked.isEmpty,
            detail: leaked.isEmpty ? "every process of the lab stopped" : "still running after lab down: pids \(leaked.map(String.init).joined(separator: ", "))")
    }

    /// The campaign on a lab that runs already (the caller brings it up and down): the
    /// write load, the plan's faults through `target`, the wait for a healthy cluster and
    /// the verdict. Faults `target` cannot inject are left out of a seed's plan.
    public func run(on target: any ChaosTarget, progress: @escaping @Sendable (String) -> Void) async throws -> ChaosReport {
        let config = try ConfigLoader.load(yaml: try String(contentsOfFile: target.configFile, encoding: .utf8), file: target.configFile)
        let faults = settings.faults.filter(target.supportedFaults.contains)
        let plan = settings.plan ?? ChaosPlan.generate(seed: settings.seed, duration: settings.duration, nodes: target.nodes.map(\.name), faults: faults)
        let nemesis = target
        let started = ContinuousClock.now
        func elapsed() -> Double { (ContinuousClock.now - started).seconds }
        var log: [ChaosReport.Event] = []
        func note(_ text: String) {
            log.append(.init(at: elapsed(), text: text))
            progress(String(format: "%7.1f s  ", elapsed()) + text)
        }

        let workload = ChaosWorkload(nodes: target.nodes, started: started)
        try await workload.start()
        note("write load started: one multi-host client, one client per node")
        let coordinator = try EtcdCoordinator.forConfig(config)
        let monitor = ChaosClusterMonitor()
        monitor.start(coordinator, started: started)

        var requests: [(what: String, task: Task<String, Never>)] = []
        var events: [(at: Double, heal: Bool, step: ChaosPlan.Step)] = plan.steps.map { ($0.at, false, $0) }
        events += plan.steps.filter(\.fault.lasts).map { ($0.at + $0.healAfter, true, $0) }
        for event in events.sorted(by: { $0.at < $1.at }) {
            let wait = event.at - elapsed()
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
            let what = "\(event.heal ? "heal" : "inject") \(event.step.fault.rawValue) \(event.step.node)"
            do {
                if event.heal {
                    try await nemesis.heal(event.step)
                } else if let request = try await nemesis.inject(event.step) {
                    requests.append((what, request))
                }
                note(what + (event.step.fault.lasts && !event.heal ? String(format: " for %.1f s", event.step.healAfter) : ""))
            } catch {
                note("\(what) failed: \(error)")
            }
        }
        for request in requests { note("\(request.what): \(await request.task.value)") }
        let lastHeal = elapsed()
        let budget = 2 * config.objectives.rto.seconds + 60
        note(String(format: "every fault healed; waiting up to %.0f s for a healthy cluster", budget))
        var settled = ChaosChecker.Settled.never
        // Waiting for an operator counts only if it lasts to the end of the budget: a hold
        // such as the cooldown ends by itself, and the cluster must then become healthy.
        var waitingSince: (at: Double, why: String)?
        var lastVerdict = ""
        while elapsed() - lastHeal < budget {
            // The verdict `drctl status` gives: the servers, and etcd's leader and members.
            let snapshot = try? await coordinator.snapshot()
            let coordination = snapshot.map { ClusterStatus.Coordination.known(leader: $0.leader, members: $0.members, paused: $0.paused, skipped: $0.skipped, progress: $0.progress) }
            let status = ClusterStatus.evaluate(config: config, observations: await NodeProbe().observeAll(config), coordination: coordination)
            if status.verdict == .healthy {
                settled = .healthy(at: elapsed())
                break
            }
            lastVerdict = "\(status.verdict): " + status.problems.joined(separator: "; ")
            let holds = snapshot.map { $0.leader == nil ? $0.members.compactMap(\.hold) : [] } ?? []
            if status.verdict == .manualIntervention, !holds.isEmpty {
                if waitingSince == nil { waitingSince = (elapsed(), holds.joined(separator: "; ")) }
            } else {
                waitingSince = nil
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        if case .never = settled, let waiting = waitingSince { settled = .operatorState(at: waiting.at, why: waiting.why) }
        switch settled {
        case .healthy(let at): note(String(format: "healthy %.1f s after the last heal", at - lastHeal))
        case let .operatorState(at, why): note(String(format: "waiting for an operator %.1f s after the last heal: ", at - lastHeal) + why)
        // What kept it from healthy: the lab and its logs go with a failed test.
        case .never: note("neither healthy nor waiting for an operator within the budget; last verdict \(lastVerdict)")
        }
        try await Task.sleep(for: .seconds(3))  // the new primary takes writes for a while
        await workload.stop()
        let samples = await monitor.stop()
        let acks = workload.acknowledged
        let survivors = try? await ChaosWorkload.survivors(target.nodes)
        let unconfirmed = workload.unconfirmed.count
        note(
            "\(acks.count) writes acknowledged; \(survivors.map { "\($0.count) rows on the primary" } ?? "no primary answered")"
                + (unconfirmed > 0 ? "; \(unconfirmed) more came back with PostgreSQL's warning that they might not have been replicated (not counted)" : ""))
        let checker = ChaosChecker(synchronous: settings.synchronous, rpo: config.objectives.rpo.seconds, recoveryBudget: budget)
        var properties = checker.check(acks: acks, survivors: survivors, lastHeal: lastHeal, settled: settled)
        let history = try? await coordinator.history()
        properties.append(
            history.map { checker.history(acks, promotions: $0.map(\.promoted)) }
                ?? ChaosChecker.Property(name: "history agrees with the clients", passed: false, detail: "the history could not be read from etcd"))
        properties.append(await Self.leftIntents(coordinator))
        properties.append(
            ChaosChecker.judgeWriteGaps(acks: acks, steps: plan.steps, samples: samples, nodes: target.nodes.map(\.name), rto: config.objectives.rto.seconds))
        if settings.failsafe {
            properties.append(
                ChaosChecker.etcdOutagesStoppedNoWrites(
                    acks: acks, steps: plan.steps, etcdMembers: settings.etcdMembers, leaseTTL: config.coordination.leaseTTL.seconds))
        }
        let settledAt: Double? =
            switch settled {
            case .healthy(let at), .operatorState(let at, _): at
            case .never: nil
            }
        var report = ChaosReport(
            seed: plan.seed, mode: settings.synchronous ? "sync" : "async", duration: settings.duration, etcdMembers: settings.etcdMembers,
            plan: plan, events: log, lastHeal: lastHeal, settledAt: settledAt, acks: acks, properties: properties)
        if settings.failsafe { report.failsafe = true }
        return report
    }
}

extension ChaosCampaign {
    /// No operator request may be left behind in etcd once the cluster settled: a pause
    /// not resumed, a switchover or failover intent that never completed, a rejoin request.
    /// One still in flight gets half a minute to finish.
    static func leftIntents(_ coordinator: EtcdCoordinator) async -> ChaosChecker.Property {
        let name = "no operator intent left in etcd"
        var left: [String] = ["etcd unreadable"]
        for _ in 0..<30 {
            guard let snapshot = try? await coordinator.snapshot() else {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            left = []
            if snapshot.paused { left.append("paused") }
            if let intent = snapshot.switchover { left.append("switchover to \(intent.to) (\(intent.phase))") }
            if let intent = snapshot.failoverIntent { left.append("failover intent\(intent.to.map { " to \($0)" } ?? "")") }
            if !snapshot.rejoinRequested.isEmpty { left.append("rejoin of \(snapshot.rejoinRequested.sorted().joined(separator: ", "))") }
            if left.isEmpty { break }
            try? await Task.sleep(for: .seconds(1))
        }
        return ChaosChecker.Property(name: name, passed: left.isEmpty, detail: left.isEmpty ? "none" : "still there: " + left.joined(separator: "; "))
    }
}
