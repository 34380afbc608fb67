import ArgumentParser
import DRLab

struct LabDown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Stop every lab process by PID and remove the lab directory.")

    @OptionGroup var lab: LabDirOption

    func run() async throws {
        try await labOperation { try await Lab.down(dir: lab.dir, progress: printProgress) }
    }
}
