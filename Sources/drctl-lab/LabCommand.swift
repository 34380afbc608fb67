import ArgumentParser
import DRCommandLine
import DRLab
import DRSystem
import Foundation

/// `drctl-lab`: the local three-region sandbox, its faults, the fault campaign, the fleet
/// simulation and the lab's drills. A separate executable so that the `drctl` a host runs
/// carries none of it (network namespaces, nftables, the scripted agents); it runs the
/// lab's agents with the `drctl` built beside it.
struct DrctlLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drctl-lab",
        abstract: "The local three-region sandbox on loopback (or in network namespaces), its faults, campaigns and drills.",
        subcommands: [
            LabUp.self, LabDown.self, LabStatusCommand.self, LabKill.self, LabFreeze.self, LabThaw.self, LabIsolate.self, LabHeal.self, LabKillEtcd.self, LabStartEtcd.self, LabChaos.self,
            LabRelay.self, LabRegions.self, LabFleet.self, LabDrillCommand.self,
        ])
}

@main
enum Main {
    static func main() async { await CommandMain.run(DrctlLab.self) }
}

/// `--dir`, shared by the lab subcommands.
struct LabDirOption: ParsableArguments {
    @Option(name: .long, help: "Lab directory.")
    var dir: String = Lab.defaultDir
}

/// Runs a lab operation, turning its errors into exit 1 with the error's advice.
func labOperation<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as LabError {
        throw CLIExit.failed(error.description)
    } catch let error as SystemError {
        throw CLIExit.failed(error.description)
    }
}

let printProgress: @Sendable (String) -> Void = { line in
    print(line)
    fflush(nil)  // flush all streams: progress must show before slow steps finish
}

/// The regions lab (`lab up --hosts`) recorded in `dir`; nil for a loopback lab or none.
func recordedHostsLab(_ dir: String) throws -> RegionHostsLab? {
    do { return try RegionHostsLab.recorded(in: dir) } catch let error as LabError { throw CLIExit.failed(error.description) }
}
