import ArgumentParser
import DRChaos
import DRCommandLine
import DRCore
import DRLab
import Foundation

/// `drctl-lab chaos`: a randomized fault campaign against a lab of its own.
struct LabChaos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Run a seeded fault campaign against a lab of its own under a write load, and judge it from what the clients saw.",
        discussion: """
            Starts a lab in /tmp, writes through libpq multi-host and to each node directly, injects \
            the faults drawn from the seed (overlapping, each healed after a few seconds), waits for a \
            healthy cluster, and checks: no write on a deposed primary after a newer one wrote, no \
            acknowledged write lost (synchronous) or losses within the RPO (asynchronous), recovery \
            within the budget, every new timeline the clients wrote on recorded in `drctl history`, \
            no operator intent left in etcd, nothing left running. Writes a JSON report and an HTML \
            page beside it. Exit 1 on any violation; the seed (or --plan with the report) replays it, \
            and --shrink N looks for a shorter schedule that still violates.
            """)

    @Option(help: "The schedule's seed.") var seed: UInt64 = 1
    @Option(help: "Seconds during which faults start.") var duration: Double = 120
    @Option(help: "async or sync (failover.synchronous).") var mode: String = "async"
    @Option(help: "Comma-separated faults (default all): \(ChaosFault.allCases.map(\.rawValue).joined(separator: ", ")).") var faults: String?
    @Option(help: "etcd members in the lab: 1, 3 or 5 (with 3, kill-etcd costs one member, not etcd).") var etcdMembers = 1
    @Option(help: "Run this schedule (a report's or a shrunk plan's JSON) instead of the seed's.") var plan: String?
    @Option(help: "Where to write the JSON report; the HTML report goes beside it (.html).") var report: String?
    @Option(help: "On a violation, shrink the schedule with at most this many more campaigns (0: do not).") var shrink = 0
    @Flag(help: "failover.failsafe in the lab: the primary stays writable without etcd while every member confirms it.") var failsafe = false
    @Flag(help: "Leave the lab running when a property fails, to look at it.") var keepFailedLab = false
    @Flag(help: "Print the schedule and start nothing.") var dryRun = false
    @Flag(help: "On regions as hosts (`lab up --hosts`: a namespace per region, 3 etcd members); the campaign runs from region3.")
    var hosts = false
    @Option(help: "With --hosts: the round trip between regions.") var latency = "40ms"
    @Option(help: .hidden) var inHostsLab: String?

    func run() async throws {
        guard ["async", "sync"].contains(mode) else { throw ValidationError("--mode is async or sync, not \(mode)") }
        var chosen = ChaosFault.allCases
        if let faults {
            chosen = try faults.split(separator: ",").map { name in
                guard let fault = ChaosFault(rawValue: String(name)) else { throw ValidationError("unknown fault \(name)") }
                return fault
            }
        }
        let binary = CommandMain.beside("drctl")
        var settings = ChaosCampaign.Settings(seed: seed, duration: duration, synchronous: mode == "sync", faults: chosen, binary: binary)
        settings.keepFailedLab = keepFailedLab && shrink == 0
        settings.etcdMembers = etcdMembers
        settings.failsafe = failsafe
        if let plan { settings.plan = try Self.readPlan(plan) }
        if hosts || inHostsLab != nil { settings.faults = chosen.filter(ChaosHostsNemesis.faults.contains) }
        if let inHostsLab { return try await runInHostsLab(inHostsLab, settings) }
        if dryRun {
            let schedule = settings.plan ?? ChaosPlan.generate(seed: seed, duration: duration, nodes: Lab.nodeLayout.map(\.name), faults: settings.faults)
            for step in schedule.steps {
                print(String(format: "%7.1f s  %@ %@", step.at, step.fault.rawValue, step.node) + (step.fault.lasts ? String(format: " for %.1f s", step.healAfter) : ""))
            }
            return
        }
        if hosts { return try await runOnHosts(settings) }
        let result = try await ChaosCampaign(settings).run { print($0) }
        print()
        for property in result.properties { print("\(property.passed ? "PASS" : "FAIL")  \(property.name): \(property.detail)") }
        if let report { try Self.write(result, to: report, planFile: plan) }
        guard !result.passed else { return }
        print("replay: \(result.replayCommand(planFile: plan))")
        if shrink > 0 {
            print("\nshrinking the schedule of \(result.plan.steps.count) faults (at most \(shrink) campaigns)")
            let shrunk = try await ChaosShrinker.shrink(result.plan, budget: shrink) { candidate in
                var retry = settings
                retry.plan = candidate
                print("trying \(candidate.steps.count) faults: \(candidate.steps.map { "\($0.fault.rawValue) \($0.node)@\($0.at)" }.joined(separator: ", "))")
                let outcome = try await ChaosCampaign(retry).run { _ in }
                print(outcome.passed ? "  passed" : "  still fails: \(outcome.properties.filter { !$0.passed }.map(\.name).joined(separator: ", "))")
                return !outcome.passed
            }
            let file = (report.map { String($0.dropLast($0.hasSuffix(".json") ? 5 : 0)) } ?? "chaos-\(seed)") + "-shrunk.json"
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(shrunk.plan).write(to: URL(fileURLWithPath: file))
            print("shrunk to \(shrunk.plan.steps.count) of \(result.plan.steps.count) faults in \(shrunk.tries) campaigns: \(file)")
            print("replay: \(result.replayCommand(planFile: file))")
        }
        throw ExitCode(1)
    }

    /// A plan alone, or the plan inside a campaign's JSON report.
    static func readPlan(_ path: String) throws -> ChaosPlan {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        if let plan = try? JSONDecoder().decode(ChaosPlan.self, from: data) { return plan }
        guard let report = try? JSONDecoder().decode(ChaosReport.self, from: data) else {
            throw ValidationError("\(path) holds neither a chaos plan nor a chaos report")
        }
        return report.plan
    }

    /// The JSON report, and the HTML page beside it.
    static func write(_ result: ChaosReport, to path: String, planFile: String?) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: URL(fileURLWithPath: path))
        let page = (path.hasSuffix(".json") ? String(path.dropLast(5)) : path) + ".html"
        try ChaosReportPage.render(result, planFile: planFile).write(toFile: page, atomically: true, encoding: .utf8)
        print("report: \(path), \(page)")
    }
}
