import ArgumentParser
import DRCoordination
import DRCore
import Foundation

/// Operator commands that the agents carry out: they only write intents to etcd.
enum Intents {
    static func coordinator(_ options: GlobalOptions) throws -> (ClusterConfig, EtcdCoordinator) {
        let (_, config) = try options.loadConfig()
        do {
            return (config, try EtcdCoordinator.forConfig(config))
        } catch {
            throw CLIExit.failed("\(error)")
        }
    }

    /// Asks for the cluster name to be typed back, unless `yes`.
    static func confirm(_ question: String, cluster: String, yes: Bool) throws {
        guard !yes else { return }
        print("\(question)\nType the cluster name (\(cluster)) to go on: ", terminator: "")
        guard readLine()?.trimmingCharacters(in: .whitespaces) == cluster else {
            throw CLIExit.failed("not confirmed: nothing was changed")
        }
    }
}

struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Maintenance: the agents take no automatic action until `drctl resume`.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let (config, etcd) = try Intents.coordinator(options)
        do { try await etcd.setPaused(true) } catch { throw CLIExit.failed("\(error)") }
        print("cluster \(config.cluster) paused: no automatic failover until `drctl resume`")
    }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "End maintenance: automatic actions resume.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let (config, etcd) = try Intents.coordinator(options)
        do { try await etcd.setPaused(false) } catch { throw CLIExit.failed("\(error)") }
        print("cluster \(config.cluster) resumed")
    }
}

struct FailoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Ask the agents to promote a standby now that the primary is lost: the way out of manual-intervention.")
    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "The node to promote (default: the best candidate).")
    var to: String?

    @Flag(name: .long, help: "Promote even beyond the RPO: data written after the candidate's last received WAL is lost.")
    var acceptDataLoss = false

    @Flag(name: .long, help: "Do not ask for confirmation.")
    var yes = false

    func run() async throws {
        let (config, etcd) = try Intents.coordinator(options)
        if let to, config.node(named: to) == nil {
            throw CLIExit.badInput("--to: no node named \"\(to)\" (nodes: \(config.nodes.map(\.node.name).joined(separator: ", ")))")
        }
        do {
            if let leader = try await etcd.leader() {
                throw CLIExit.failed("\(leader.node) holds the leader key (term \(leader.term)): failover is for a lost primary; a planned change is a switchover")
            }
        } catch let exit as CLIExit {
            throw exit
        } catch {
            throw CLIExit.failed("cannot read etcd: \(error)")
        }
        let target = to ?? "the best candidate"
        try Intents.confirm("Promote \(target)\(acceptDataLoss ? ", ACCEPTING DATA LOSS beyond the RPO" : "")?", cluster: config.cluster, yes: yes)
        do {
            try await etcd.setFailoverIntent(FailoverIntent(to: to, acceptDataLoss: acceptDataLoss))
        } catch {
            throw CLIExit.failed("\(error)")
        }
        print("failover requested (\(target)); it expires in 10 minutes if no agent can carry it out; follow it with `drctl status` and `drctl history`")
    }
}
