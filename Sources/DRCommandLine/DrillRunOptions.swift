import ArgumentParser
import DRCore
import DRDrill
import Foundation

/// What `drctl drill run` and `drctl-lab drill run` both take: the configuration, the drill
/// file and the confirmation a drill that crashes a real primary needs.
public struct DrillRunOptions: ParsableArguments {
    @OptionGroup public var global: GlobalOptions
    @Argument(help: "The drill file, e.g. drills/restore-latest.yaml.") public var file: String
    @Option(help: "The cluster's name: required by a failover drill on a real cluster (target: cluster), which crashes its primary.")
    public var confirm: String?

    public init() {}

    /// Loads the configuration and the drill, lets `refuse` throw for a drill this command
    /// cannot run, and runs it with `drctl` for the agents and restores.
    public func run(drctl: String, faultDrill: (any FaultDrill)? = nil, refuse: (DrillSpec) throws -> Void = { _ in }) async throws {
        let (configFile, config) = try global.loadConfig()
        let spec = try DrillFile.load(file)
        try refuse(spec)
        let runner = DrillRunner(
            config: config, configFile: URL(fileURLWithPath: configFile).standardizedFileURL.path, drctl: drctl, faultDrill: faultDrill,
            confirmedCluster: confirm)
        try await DrillFile.run(spec, with: runner, json: global.json)
    }
}
