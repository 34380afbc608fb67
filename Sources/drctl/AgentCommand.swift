import ArgumentParser
import DRAgent
import DRCommandLine
import DRCore
import Foundation
import Logging

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the agent for one region in the foreground (systemd runs it); SIGTERM stops it safely.")

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "The region whose nodes this agent watches.")
    var region: String

    @Option(name: .long, help: "Directory for the agent's state and failover evidence.")
    var stateDir: String = "/var/lib/drctl"

    @Option(name: .long, help: "Local address to send etcd traffic from (the lab uses the region's address).")
    var sourceAddress: String?

    @Option(name: .long, help: "The least severe level logged for this run (trace, debug, info, notice, warning, error, critical); overrides log.level.")
    var logLevel: LogConfig.Level?

    func run() async throws {
        let (_, config) = try options.loadConfig()
        guard config.regions.contains(where: { $0.name == region }) else {
            throw CLIExit.badInput("--region: no region named \"\(region)\" in the configuration (regions: \(config.regions.map(\.name).joined(separator: ", ")))")
        }
        config.log.bootstrap(override: logLevel)
        let executable = CommandMain.executable
        let configPath = try options.configPath()
        do {
            try await RegionAgent.run(
                config: config, region: region, stateDir: stateDir, sourceAddress: sourceAddress,
                watchdogCommand: [executable, "watchdog", "--config", configPath],
                jobs: (configFile: URL(fileURLWithPath: configPath).standardizedFileURL.path, drctl: executable))
        } catch {
            throw CLIExit.failed("\(error)")
        }
    }
}

/// Started by `drctl agent`, one per node: fences the database if the agent misses its
/// lease deadline (frozen, stalled, killed). Not meant to be run by hand.
struct WatchdogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watchdog", abstract: "Fence a node's database when its agent misses the lease deadline.", shouldDisplay: false)

    @OptionGroup var options: GlobalOptions
    @Option(name: .long) var node: String
    @Option(name: .long) var stateDir: String
    @Option(name: .long) var agentPid: Int32

    func run() async throws {
        let (_, config) = try options.loadConfig()
        guard let entry = config.node(named: node) else { throw CLIExit.badInput("--node: no node named \"\(node)\"") }
        config.log.bootstrap()
        await FencingWatchdog.run(config: config, node: entry.node, stateDir: stateDir, agentPID: agentPid, log: Logger(label: "drctl.watchdog"))
    }
}

extension LogConfig.Level: ExpressibleByArgument {}
