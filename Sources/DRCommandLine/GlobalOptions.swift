import ArgumentParser
import DRCore
import Foundation

/// Options every command shares: where the configuration is, and JSON output.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: $DRCTL_CONFIG, then ./drctl.yaml, then /etc/drctl/drctl.yaml).")
    public var config: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    public var json = false

    public init() {}

    /// The configuration file to use, by the precedence of the CLI contract.
    public func configPath() throws -> String {
        if let config { return config }
        if let env = ProcessInfo.processInfo.environment["DRCTL_CONFIG"], !env.isEmpty { return env }
        for candidate in ["drctl.yaml", "/etc/drctl/drctl.yaml"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw CLIExit.badInput("no configuration: pass --config FILE, set DRCTL_CONFIG, or create ./drctl.yaml or /etc/drctl/drctl.yaml (`drctl-lab up` writes .lab/drctl.yaml)")
    }

    /// Reads and validates the configuration; any problem ends the command with exit 2
    /// and every diagnostic printed.
    public func loadConfig() throws -> (path: String, config: ClusterConfig) {
        let path = try configPath()
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIExit.badInput("\(path): cannot read the configuration file (missing or not readable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIExit.badInput("\(path): the configuration is not UTF-8 text")
        }
        do {
            return (path, try ConfigLoader.load(yaml: text, file: path))
        } catch {
            throw CLIExit.badInput(error.description)
        }
    }
}
