import ArgumentParser
import DRAgent
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

    func run() async throws {
        let (_, config) = try options.loadConfig()
        guard config.regions.contains(where: { $0.name == region }) else {
            throw CLIExit.badInput("--region: no region named \"\(region)\" in the configuration (regions: \(config.regions.map(\.name).joined(separator: ", ")))")
        }
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        do {
            try await RegionAgent.run(config: config, region: region, stateDir: stateDir, sourceAddress: sourceAddress)
        } catch {
            throw CLIExit.failed("\(error)")
        }
    }
}
