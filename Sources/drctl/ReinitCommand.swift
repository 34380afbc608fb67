import ArgumentParser
import DRCommandLine
import DRCoordination
import DRCore
import DRPostgres

/// `drctl reinit NODE`: the node's agent deletes its database and builds it anew as a
/// standby of the leader (`replica.create_from`). For a standby that cannot be rewound, a
/// corrupted data directory, or a node to move onto a new disk.
struct ReinitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reinit",
        abstract: "Rebuild a node's database from scratch as a standby of the current primary (its data directory is replaced); its agent does it.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The node to rebuild (never the primary).")
    var node: String

    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let (config, etcd) = try Intents.coordinator(options)
        guard let target = config.node(named: node)?.node else {
            throw CLIExit.badInput("no node named \"\(node)\" (nodes: \(config.nodes.map(\.node.name).joined(separator: ", ")))")
        }
        if case .primary = await NodeProbe().observe(node: target.name, conninfo: target.conninfo).result {
            throw CLIExit.failed("refused: \(node) accepts writes; a primary is never rebuilt (switch over first, or fence it)")
        }
        let leader: LeaderRecord?
        do { leader = try await etcd.leader() } catch { throw CLIExit.failed("cannot read the leader from etcd: \(error)") }
        guard let leader, leader.node != node else {
            throw CLIExit.failed(
                "refused: \(leader == nil ? "no node holds the leader key" : "\(node) holds the leader key"): there is no primary to build a standby of")
        }
        let sources = config.replica.createFrom.map(\.rawValue).joined(separator: ", then ")
        guard
            try change.proceed(
                """
                \(node)'s database will be DELETED (\(target.dataDir ?? "its data_dir")) and built anew as a standby of \(leader.node)
                by \(node)'s agent, from \(sources) (replica.create_from); its own configuration files are kept
                """,
                question: "Rebuild \(node) from scratch?", cluster: config.cluster)
        else { return }
        do { try await etcd.setReinitIntent(node: node, true) } catch { throw CLIExit.failed("\(error)") }
        print("reinit requested; `drctl status` shows \(node) as a standby once it streams")
    }
}
