import ArgumentParser
import Foundation

/// The `drctl` command line. Exit codes follow the CLI contract (../shared/DESIGN.md): 0 success or healthy, 1 an
/// operation that failed or a cluster that is not healthy, 2 bad usage or bad input.
struct Drctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drctl",
        abstract: "Disaster recovery and failover for PostgreSQL.",
        version: "drctl \(BuildVersion.value)",
        subcommands: [
            StatusCommand.self, ConfigCommand.self, AgentCommand.self, WatchdogCommand.self, HistoryCommand.self, FailoverCommand.self, SwitchoverCommand.self, RejoinCommand.self, ReinitCommand.self,
            RegionCommand.self, PromoteCommand.self,
            DNSCommand.self, BackupCommand.self, WALPushCommand.self, WALFetchCommand.self, WALPusherCommand.self, WALPrefetcherCommand.self, RestoreCommand.self, DrillCommand.self, PauseCommand.self,
            ResumeCommand.self,
            LabCommand.self,
            DebugCommand.self, PreflightCommand.self, InitCommand.self, ReloadCommand.self, RestartCommand.self,
        ]
    )
}

@main
enum Main {
    static func main() async {
        do {
            var command = try Drctl.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as CLIExit {
            if !exit.message.isEmpty { FileHandle.standardError.write(Data((exit.message + "\n").utf8)) }
            Foundation.exit(exit.code)
        } catch {
            let code = Drctl.exitCode(for: error)
            let message = Drctl.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            // ArgumentParser reports usage errors as 64 (EX_USAGE); the contract says 2.
            Foundation.exit(code == .validationFailure ? 2 : 1)
        }
    }
}

/// Ends the command with a contract exit code and a message for standard error.
struct CLIExit: Error {
    var code: Int32
    var message: String

    static func failed(_ message: String) -> CLIExit { CLIExit(code: 1, message: message) }
    static func badInput(_ message: String) -> CLIExit { CLIExit(code: 2, message: message) }
    /// Exit 1 without a message: the output already said why (e.g. an unhealthy status).
    static let unhealthy = CLIExit(code: 1, message: "")
}
