import ArgumentParser
import DRCommandLine
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

    @Flag(name: .long, help: "When pg_rewind has failed for this node, rebuild it from scratch (drctl reinit) without asking.")
    var reclone = false

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
        // pg_rewind failed before (its WAL is gone, a damaged directory, no checksums or
        // wal_log_hints): rewinding again would fail again; a rebuild is offered instead.
        let failure: String?
        do { failure = try await etcd.snapshot().members.first { $0.name == node }?.rejoinFailure } catch { throw CLIExit.failed("\(error)") }
        if let failure {
            let sources = config.replica.createFrom.map(\.rawValue).joined(separator: ", then ")
            print("the last attempt to bring \(node) back failed: \(failure)")
            let plan = """
                \(node)'s database will be DELETED (\(target.dataDir ?? "its data_dir")) and built anew as a standby of \(leader.node)
                by \(node)'s agent, from \(sources) (replica.create_from); its own configuration files are kept
                """
            if change.dryRun { return print(plan + "\ndry run: nothing changed") }
            guard reclone || !change.yes else {
                throw CLIExit.failed("refused: rewinding \(node) failed before; add --reclone to rebuild it from scratch, or fix the cause and try again")
            }
            if !reclone {
                print(plan)
                try Intents.confirm("Rebuild \(node) from scratch instead?", cluster: config.cluster, yes: false)
            }
            do { try await etcd.setReinitIntent(node: node, true) } catch { throw CLIExit.failed("\(error)") }
            return print("rebuild requested; `drctl status` shows \(node) as a standby once it streams")
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
