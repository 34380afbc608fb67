import ArgumentParser
import DRChaos
import DRCommandLine
import DRCore
import DRLab
import Foundation

/// `drctl-lab chaos --hosts`: the campaign on regions as hosts. The lab is made from the
/// root namespace, which has no address on the lab's network by design; the campaign itself
/// (its clients, checks and operator commands) then runs in region3, the witness region,
/// as this same command re-run there with `--in-hosts-lab`, and writes its report for this
/// process to judge, tear the lab down and check that nothing is left.
extension LabChaos {
    func runOnHosts(_ settings: ChaosCampaign.Settings) async throws {
        guard mode == "async" else { throw ValidationError("--hosts runs the asynchronous mode only (the regions lab has no synchronous setting yet)") }
        guard !failsafe, etcdMembers == 1 || etcdMembers == 3, shrink == 0 else {
            throw ValidationError("--hosts runs one etcd member per region (3), without --failsafe or --shrink")
        }
        guard let round = DurationText.parse(latency) else { throw ValidationError("--latency takes a duration like 40ms") }
        let dir = "/tmp/drctl-chaos-hosts-\(seed)-\(UUID().uuidString.prefix(6).lowercased())"
        print("regions lab in \(dir) (\(DurationText.format(round)) between regions, 3 etcd members)")
        let lab = try await RegionHostsLab.up(dir: dir, binary: settings.binary, latency: round, databases: true, agents: true, autoRejoin: true) {
            print($0)
        }
        let reportFile = "\(dir)/chaos-report.json"
        var child = [CommandMain.executable, "chaos", "--in-hosts-lab", dir, "--seed", String(seed), "--duration", String(duration), "--report", reportFile]
        if let faults { child += ["--faults", faults] }
        if let plan { child += ["--plan", plan] }
        let status: Int32
        do {
            guard let namespace = lab.namespace("region3") else { throw ValidationError("the regions lab has no region3") }
            fflush(nil)  // this process's lines before the campaign's
            status = try await Self.runInheritingOutput(["ip", "netns", "exec", namespace] + child)
        } catch {
            try? await RegionHostsLab.down(dir: dir)
            throw error
        }
        let data = FileManager.default.contents(atPath: reportFile)
        var result = try data.map { try JSONDecoder().decode(ChaosReport.self, from: $0) }
        if keepFailedLab, result?.passed != true {
            print("kept the lab for inspection: drctl-lab down --dir \(dir)")
        } else {
            try await RegionHostsLab.down(dir: dir)
            result?.properties.append(ChaosCampaign.nothingLeftRunning(dir))
        }
        guard let result else { throw ValidationError("the campaign in region3 wrote no report (exit \(status)); see the output above") }
        print()
        for property in result.properties { print("\(property.passed ? "PASS" : "FAIL")  \(property.name): \(property.detail)") }
        if let report { try Self.write(result, to: report, planFile: plan) }
        guard !result.passed else { return }
        print("replay: \(result.replayCommand(planFile: plan))")
        throw ExitCode(1)
    }

    /// The campaign's own part, inside region3 of the lab recorded in `dir`.
    func runInHostsLab(_ dir: String, _ settings: ChaosCampaign.Settings) async throws {
        let lab = try RegionHostsLab.load(dir: dir)
        var settings = settings
        settings.etcdMembers = lab.members.count
        var result = try await ChaosCampaign(settings).run(on: ChaosHostsNemesis(lab: lab, binary: settings.binary)) { print($0) }
        result.hostsLatency = DurationText.format(lab.latency)
        guard let report else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: URL(fileURLWithPath: report))
    }

    /// Runs `command` with this process's standard output and error; returns its exit status.
    static func runInheritingOutput(_ command: [String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
    }
}
