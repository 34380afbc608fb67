import ArgumentParser
import DRCommandLine
import DRCoordination
import DRCore
import Foundation

/// `--dry-run` and `--yes`, shared by every command that changes the cluster: each shows
/// what it will do and asks for the cluster name to be typed back, unless `--yes`.
struct ChangeOptions: ParsableArguments {
    @Flag(name: .long, help: "Show the plan and change nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Do not ask for confirmation.")
    var yes = false

    /// Prints `plan`; returns false for a dry run; else asks (unless --yes) and returns true.
    func proceed(_ plan: String, question: String, cluster: String) throws -> Bool {
        print(plan)
        if dryRun {
            print("dry run: nothing changed")
            return false
        }
        try Intents.confirm(question, cluster: cluster, yes: yes)
        return true
    }
}

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
    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let (config, etcd) = try Intents.coordinator(options)
        guard
            try change.proceed(
                "pause \(config.cluster): no automatic failover, switchover or DNS change until `drctl resume`; the leader keeps its lease",
                question: "Pause \(config.cluster)?", cluster: config.cluster)
        else { return }
        do { try await etcd.setPaused(true) } catch { throw CLIExit.failed("\(error)") }
        print("cluster \(config.cluster) paused: no automatic failover until `drctl resume`")
    }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "End maintenance: automatic actions resume.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let (config, etcd) = try Intents.coordinator(options)
        guard
            try change.proceed(
                "resume \(config.cluster): the agents act automatically again (failover, fencing, DNS)",
                question: "Resume \(config.cluster)?", cluster: config.cluster)
        else { return }
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

    @OptionGroup var change: ChangeOptions

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
        let plan = "failover: the agents promote \(target) under the leader lock\(acceptDataLoss ? ", ACCEPTING DATA LOSS beyond the RPO" : " within the RPO"); DNS follows"
        guard try change.proceed(plan, question: "Promote \(target)?", cluster: config.cluster) else { return }
        do {
            try await etcd.setFailoverIntent(FailoverIntent(to: to, acceptDataLoss: acceptDataLoss))
        } catch {
            throw CLIExit.failed("\(error)")
        }
        print("failover requested (\(target)); it expires in 10 minutes if no agent can carry it out; follow it with `drctl status` and `drctl history`")
    }
}
