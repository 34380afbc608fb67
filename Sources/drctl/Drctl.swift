import ArgumentParser
import DRCommandLine
import Foundation

/// The `drctl` command line. Exit codes follow the CLI contract (docs/design.md): 0 success or healthy, 1 an
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
            DebugCommand.self, PreflightCommand.self, InitCommand.self, ReloadCommand.self, RestartCommand.self,
        ]
    )
}

@main
enum Main {
    static func main() async { await CommandMain.run(Drctl.self) }
}
