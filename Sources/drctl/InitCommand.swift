import ArgumentParser
import DRCommandLine
import DRCoordination
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
            directories, and etcd's member list (a region's etcd_member is the one member on its host), and \
            writes a configuration with one region per node, the primary's first. Then: \
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
        let endpoints = etcd.split(separator: ",").map(String.init)
        let text = InitialConfig.render(cluster: cluster, discovered: discovered, etcd: endpoints, etcdMembers: await Self.etcdMembers(endpoints))
        // What init writes must load: a problem here is init's, reported before anything is written.
        do { _ = try ConfigLoader.load(yaml: text, file: output ?? "drctl.yaml") } catch { throw CLIExit.failed("the written configuration does not load: \(error)\n\(text)") }
        guard let output else { return print(text, terminator: "") }
        guard !FileManager.default.fileExists(atPath: output) else { throw CLIExit.badInput("\(output) exists: init never overwrites a configuration") }
        try text.write(toFile: output, atomically: true, encoding: .utf8)
        print("wrote \(output): review it, then drctl config check --config \(output) && drctl preflight --config \(output)")
    }

    /// etcd's member list (read-only), for each region's `etcd_member`.
    static func etcdMembers(_ endpoints: [String]) async -> InitialConfig.EtcdMembers {
        do {
            let coordinator = EtcdCoordinator(gateway: EtcdGateway(endpoints: endpoints), prefix: "/drctl/init/")
            let leadership = try await coordinator.etcdLeadership()
            return .read(
                leadership.members.map { member in
                    InitialConfig.EtcdMember(name: member.name, hosts: (leadership.clientURLs[member.id] ?? []).compactMap { URL(string: $0)?.host })
                })
        } catch {
            return .unread("\(error)")
        }
    }
}
