import ArgumentParser
import DRCommandLine
import DRDrill
import DRLabDrill
import Foundation

/// `drctl-lab drill run`: every drill, the lab's included (target: lab), which inject
/// faults into the lab (`LabFailoverDrill`); the agents and restores run the `drctl`
/// built beside this executable.
struct LabDrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill", abstract: "Run drills against the lab, those that inject faults into it included.", subcommands: [LabDrillRun.self])
}

struct LabDrillRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a drill and write its report (JSON + HTML with the timeline); exit 1 when it fails its objectives or validations.")
    @OptionGroup var options: DrillRunOptions

    func run() async throws {
        try await options.run(drctl: CommandMain.beside("drctl"), faultDrill: LabFailoverDrill())
    }
}
