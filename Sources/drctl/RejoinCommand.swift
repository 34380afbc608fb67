import ArgumentParser
import DRCoordination
import DRCore
import DRPostgres

struct RejoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rejoin",
        abstract: "Bring a fenced old primary back as a standby of the current primary (pg_rewind when the timelines diverged); its agent does it.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The fenced node.")
    var node: String

    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let (config, etcd) = try Intents.coordinator(options)
        guard let target = config.node(named: node)?.node else {
            throw CLIExit.badInput("no node named \"\(node)\" (nodes: \(config.nodes.map(\.node.name).joined(separator: ", ")))")
        }
        // Never rewind a database that still takes writes: that is a split brain to resolve first.
        switch await NodeProbe().observe(node: target.name, conninfo: target.conninfo).result {
        case .primary:
            throw CLIExit.failed("refused: \(node) is running as a primary that accepts writes; fence it (stop its database) first")
        case .standby:
            throw CLIExit.failed("\(node) already runs as a standby: nothing to rejoin")
        case .unreachable, .failed:
            break
        }
        let leader: LeaderRecord?
        do { leader = try await etcd.leader() } catch { throw CLIExit.failed("cannot read the leader from etcd: \(error)") }
        guard let leader, leader.node != node else {
            throw CLIExit.failed("refused: \(leader == nil ? "no node holds the leader key" : "\(node) holds the leader key"): there is no primary to rejoin")
        }
        guard
            try change.proceed(
                "\(node) will be rewound from \(leader.node) if needed (pg_rewind), then started as its standby by \(node)'s agent",
                question: "Rejoin \(node) as a standby of \(leader.node)?", cluster: config.cluster)
        else { return }
        do { try await etcd.setRejoinIntent(node: node, true) } catch { throw CLIExit.failed("\(error)") }
        print("rejoin requested; `drctl status` shows \(node) as a standby once it streams")
    }
}
