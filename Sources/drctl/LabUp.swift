import ArgumentParser
import DRLab

struct LabUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a primary, a streaming hot standby, a cold region, etcd and PowerDNS; write DIR/drctl.yaml.")

    @OptionGroup var lab: LabDirOption

    func run() async throws {
        let state = try await labOperation { try await Lab.up(dir: lab.dir, progress: printProgress) }
        print("""

            lab is up in \(state.dir)
              drctl status --config \(state.configFile)
              drctl lab status --dir \(state.dir)
              drctl lab down --dir \(state.dir)
            """)
    }
}
