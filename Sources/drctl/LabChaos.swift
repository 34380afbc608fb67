import ArgumentParser
import DRChaos
import DRCore
import Foundation

/// `drctl lab chaos`: a randomized fault campaign against a lab of its own.
struct LabChaos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Run a seeded fault campaign against a lab of its own under a write load, and judge it from what the clients saw.",
        discussion: """
            Starts a lab in /tmp, writes through libpq multi-host and to each node directly, injects \
            the faults drawn from the seed (overlapping, each healed after a few seconds), waits for a \
            healthy cluster, and checks: no write on a deposed primary after a newer one wrote, no \
            acknowledged write lost (synchronous) or losses within the RPO (asynchronous), recovery \
            within the budget, nothing left running. Exit 1 on any violation; the seed replays it.
            """)

    @Option(help: "The schedule's seed.") var seed: UInt64 = 1
    @Option(help: "Seconds during which faults start.") var duration: Double = 120
    @Option(help: "async or sync (failover.synchronous).") var mode: String = "async"
    @Option(help: "Comma-separated faults (default all): \(ChaosFault.allCases.map(\.rawValue).joined(separator: ", ")).") var faults: String?
    @Option(help: "Where to write the JSON report.") var report: String?
    @Flag(help: "Leave the lab running when a property fails, to look at it.") var keepFailedLab = false

    func run() async throws {
        guard ["async", "sync"].contains(mode) else { throw ValidationError("--mode is async or sync, not \(mode)") }
        var chosen = ChaosFault.allCases
        if let faults {
            chosen = try faults.split(separator: ",").map { name in
                guard let fault = ChaosFault(rawValue: String(name)) else { throw ValidationError("unknown fault \(name)") }
                return fault
            }
        }
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var settings = ChaosCampaign.Settings(seed: seed, duration: duration, synchronous: mode == "sync", faults: chosen, binary: binary)
        settings.keepFailedLab = keepFailedLab
        let campaign = ChaosCampaign(settings)
        let result = try await campaign.run { print($0) }
        print()
        for property in result.properties { print("\(property.passed ? "PASS" : "FAIL")  \(property.name): \(property.detail)") }
        if let report {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: report))
            print("report: \(report)")
        }
        if !result.passed {
            print("replay: drctl lab chaos --seed \(seed) --duration \(Int(duration)) --mode \(mode)\(faults.map { " --faults \($0)" } ?? "")")
            throw ExitCode(1)
        }
    }
}
