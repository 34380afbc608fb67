import ArgumentParser
import DRCommandLine
import DRCoordination
import DRCore
import DRPostgres
import Foundation

/// `drctl restart NODE [--pending-only]`: the node's agent restarts its database in place,
/// as `patronictl restart` does — a standby as a standby, the leader's primary as the
/// primary on its own timeline — with no failover and no failover evidence; also while paused.
struct RestartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Restart a node's database in place (to apply a setting): same role, same timeline, no failover; its agent does it, also while paused.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The node whose database to restart.")
    var node: String

    @Flag(name: .long, help: "Only if a changed setting waits for a restart (pg_settings.pending_restart).")
    var pendingOnly = false

    @Option(name: .long, help: "Seconds to wait for the agent to finish (0: do not wait).")
    var wait: Double = 120

    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let (config, etcd) = try Intents.coordinator(options)
        guard let target = config.node(named: node)?.node else {
            throw CLIExit.badInput("no node named \"\(node)\" (nodes: \(config.nodes.map(\.node.name).joined(separator: ", ")))")
        }
        let observed = await NodeProbe().observe(node: target.name, conninfo: target.conninfo).result
        let role: String
        switch observed {
        case .primary: role = "primary"
        case .standby: role = "standby"
        case .unreachable(let reason), .failed(let reason):
            throw CLIExit.failed("refused: \(node)'s database does not answer (\(reason)); only a running database is restarted in place")
        }
        if pendingOnly, observed.activity?.pendingRestart != true {
            print("\(node) has no setting waiting for a restart: nothing to do")
            return
        }
        guard
            try change.proceed(
                "\(node)'s database (\(role)) will be restarted in place by its agent: a fast shutdown, then a start as the \(role)"
                    + (role == "primary" ? " on its own timeline (no failover; writes pause for the restart)" : ""),
                question: "Restart \(node)?", cluster: config.cluster)
        else { return }
        do { try await etcd.setRestartIntent(node: node, RestartRequest(pendingOnly: pendingOnly)) } catch { throw CLIExit.failed("\(error)") }
        guard wait > 0 else {
            print("restart requested; \(node)'s agent carries it out")
            return
        }
        // Done when the agent has withdrawn the request and the postmaster's start time moved.
        let startedBefore = observed.activity?.postmasterStartMillis
        let deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1000))
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            // An etcd read that fails (a 503, an election) says nothing: asked again, never
            // taken for the request gone.
            guard let snapshot = try? await etcd.snapshot(), snapshot.restartRequested[node] == nil else { continue }
            let after = await NodeProbe().observe(node: target.name, conninfo: target.conninfo).result
            guard let started = after.activity?.postmasterStartMillis else { continue }
            guard started != startedBefore else {
                throw CLIExit.failed("\(node)'s agent withdrew the request without restarting; its log says why")
            }
            switch after {
            case .primary where role == "primary", .standby where role == "standby":
                print("\(node) restarted: \(role) again\(after.activity?.pendingRestart == true ? " (a setting still waits for a restart)" : "")")
                return
            default:
                throw CLIExit.failed("\(node) restarted but is no longer the \(role); see `drctl status`")
            }
        }
        throw CLIExit.failed("\(node)'s agent did not finish the restart within \(Int(wait))s; see `drctl status` and its log")
    }
}
