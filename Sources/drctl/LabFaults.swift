import ArgumentParser
import DRLab

/// Fault injection in the lab: one subcommand per fault, all by node name.
struct LabKill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill", abstract: "SIGKILL a node's postmaster and its region's agent: whole-node loss.")

    @OptionGroup var lab: LabDirOption
    @Argument(help: "The node, e.g. pg1.") var node: String

    func run() async throws {
        let pids = try await labOperation { try await Lab.kill(dir: lab.dir, node: node) }
        print("killed \(node): pids \(pids.map(String.init).joined(separator: ", "))")
    }
}

struct LabFreeze: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freeze", abstract: "SIGSTOP the agent of a node's region (a stalled agent); the database keeps running.")

    @OptionGroup var lab: LabDirOption
    @Argument(help: "The node, e.g. pg1.") var node: String

    func run() async throws {
        let pid = try await labOperation { try Lab.freeze(dir: lab.dir, node: node, true) }
        print("froze the agent of \(node) (pid \(pid))")
    }
}

struct LabThaw: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thaw", abstract: "SIGCONT a frozen agent.")

    @OptionGroup var lab: LabDirOption
    @Argument(help: "The node, e.g. pg1.") var node: String

    func run() async throws {
        let pid = try await labOperation { try Lab.freeze(dir: lab.dir, node: node, false) }
        print("thawed the agent of \(node) (pid \(pid))")
    }
}

struct LabIsolate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "isolate",
        abstract: "Partition a region: its agent loses etcd and its database loses replication; host clients still reach it (root, nftables).")

    @OptionGroup var lab: LabDirOption
    @Argument(help: "The region, e.g. region1.") var region: String
    @Option(help: "What to cut: full (etcd, replication and the agents' APIs), etcd, replication, etcd-answers (one way: etcd's answers are lost), or agents (only the agents' APIs).")
    var cut: String = LabCut.full.rawValue

    func run() async throws {
        guard let kind = LabCut(rawValue: cut) else {
            throw ValidationError("--cut must be one of \(LabCut.allCases.map(\.rawValue).joined(separator: ", ")), found \(cut)")
        }
        try await labOperation { try await Lab.isolate(dir: lab.dir, region: region, kind) }
        print("isolated \(region) (\(kind.rawValue)); undo with `drctl lab heal \(region)\(kind == .full ? "" : " --cut \(kind.rawValue)")`")
    }
}

struct LabHeal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "heal", abstract: "End a region's partition.")

    @OptionGroup var lab: LabDirOption
    @Argument(help: "The region, e.g. region1.") var region: String
    @Option(help: "Which partition to end (as given to `lab isolate --cut`).") var cut: String = LabCut.full.rawValue

    func run() async throws {
        guard let kind = LabCut(rawValue: cut) else {
            throw ValidationError("--cut must be one of \(LabCut.allCases.map(\.rawValue).joined(separator: ", ")), found \(cut)")
        }
        try await labOperation { try await Lab.heal(dir: lab.dir, region: region, kind) }
        print("healed \(region)")
    }
}
