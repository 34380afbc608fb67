import ArgumentParser
import DRCore
import DRPostgres
import Foundation

/// `drctl init`: adopt a running cluster — read its topology (read-only) and write a
/// commented starting configuration that `drctl config check` accepts.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Read a running primary and its standbys (changing nothing) and write a commented starting configuration.",
        discussion: """
            Connects to the primary and each standby, finds who streams from whom (pg_stat_replication, \
            each standby's WAL receiver and slot), synchronous_standby_names, archive_command and the data \
            directories, and writes a configuration with one region per node, the primary's first. Then: \
            rename the regions, set the objectives, drctl config check and drctl preflight.
            """)

    @Option(help: "The cluster's name (lower-case letters, digits, '-', '_').") var cluster: String
    @Option(help: "The primary's libpq connection string (no password: use .pgpass).") var primary: String
    @Option(help: "A name for the primary (default: from its host).") var primaryName: String?
    @Option(help: "A standby's connection string; repeat for each.") var standby: [String] = []
    @Option(help: "etcd client URLs, comma-separated.") var etcd: String = "http://127.0.0.1:2379"
    @Option(help: "Write the configuration here instead of standard output (refused if it exists).") var output: String?

    func run() async throws {
        var discovered: DiscoveredCluster
        do {
            discovered = try await ClusterDiscovery().discover(primary: primary, standbys: standby)
        } catch let error as ClusterDiscovery.Problem {
            throw CLIExit.badInput(error.description)
        } catch {
            throw CLIExit.failed("reading the cluster failed: \(error)")
        }
        if let primaryName { discovered.primary.name = InitialConfig.nodeName(primaryName) }
        let text = InitialConfig.render(cluster: cluster, discovered: discovered, etcd: etcd.split(separator: ",").map(String.init))
        // What init writes must load: a problem here is init's, reported before anything is written.
        do { _ = try ConfigLoader.load(yaml: text, file: output ?? "drctl.yaml") } catch { throw CLIExit.failed("the written configuration does not load: \(error)\n\(text)") }
        guard let output else { return print(text, terminator: "") }
        guard !FileManager.default.fileExists(atPath: output) else { throw CLIExit.badInput("\(output) exists: init never overwrites a configuration") }
        try text.write(toFile: output, atomically: true, encoding: .utf8)
        print("wrote \(output): review it, then drctl config check --config \(output) && drctl preflight --config \(output)")
    }
}
