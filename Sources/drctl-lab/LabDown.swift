import ArgumentParser
import DRCommandLine
import DRLab

struct LabDown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Stop every lab process by PID and remove the lab directory.")

    @OptionGroup var lab: LabDirOption

    func run() async throws {
        if try recordedHostsLab(lab.dir) != nil {
            try await labOperation { try await RegionHostsLab.down(dir: Lab.absolute(lab.dir)) }
            print("regions lab down: agents, databases, DNS and etcd stopped, namespaces removed")
            return
        }
        try await labOperation { try await Lab.down(dir: lab.dir, progress: printProgress) }
    }
}
