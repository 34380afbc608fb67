import ArgumentParser
import DRCommandLine
import DRLab
import Foundation

/// Fault injection in the lab: one subcommand per fault, all by node name.
struct LabKill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill", abstract: "SIGKILL a node's postmaster and its region's agent: whole-node loss.")

    @OptionGroup var lab: LabDirOption
    @Argument(help: "The node, e.g. pg1.") var node: String

    func run() async throws {
        if let hosts = try recordedHostsLab(lab.dir) {
            let region = try await labOperation { try hosts.region(of: node) }
            let pids = try await labOperation { try await hosts.loseHost(region) }
            print("lost \(region)'s host (\(node), its agent, etcd member and relay): pids \(pids.map(String.init).joined(separator: ", "))")
            return
        }
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
        let pid = try await labOperation { try freezeAgent(lab.dir, node, true) }
        print("froze the agent of \(node) (pid \(pid))")
    }
}

struct LabThaw: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thaw", abstract: "SIGCONT a frozen agent.")

    @OptionGroup var lab: LabDirOption
    @Argument(help: "The node, e.g. pg1.") var node: String

    func run() async throws {
        let pid = try await labOperation { try freezeAgent(lab.dir, node, false) }
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
    @Option(help: "Only from these regions, comma-separated (lab up --hosts only; default: every other).") var from: String?
    @Flag(help: "Drop only what the region sends; what the others send still arrives (lab up --hosts only).") var oneWay = false

    func run() async throws {
        let kind = try parseCut(cut)
        if let hosts = try recordedHostsLab(lab.dir) {
            let peers = from.map { $0.split(separator: ",").map(String.init) }
            try await labOperation { try await hosts.isolate(region, kind, from: peers, oneWay: oneWay) }
            print("isolated \(region) (\(kind.rawValue))\(from.map { " from \($0)" } ?? "")\(oneWay ? ", one way" : ""); undo with `drctl-lab heal \(region)`")
            return
        }
        guard from == nil, !oneWay else { throw ValidationError("--from and --one-way need regions as hosts (lab up --hosts): the loopback lab cuts a region from all") }
        try await labOperation { try await Lab.isolate(dir: lab.dir, region: region, kind) }
        print("isolated \(region) (\(kind.rawValue)); undo with `drctl-lab heal \(region)\(kind == .full ? "" : " --cut \(kind.rawValue)")`")
    }
}

struct LabHeal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "heal", abstract: "End a region's partition.")

    @OptionGroup var lab: LabDirOption
    @Argument(help: "The region, e.g. region1.") var region: String
    @Option(help: "Which partition to end (as given to `lab isolate --cut`; with lab up --hosts, every one when not given).") var cut: String?

    func run() async throws {
        let kind = try cut.map(parseCut)
        if let hosts = try recordedHostsLab(lab.dir) {
            try await labOperation { try await hosts.heal(region, kind) }
        } else {
            try await labOperation { try await Lab.heal(dir: lab.dir, region: region, kind ?? .full) }
        }
        print("healed \(region)")
    }
}

private func parseCut(_ text: String) throws -> LabCut {
    guard let kind = LabCut(rawValue: text) else {
        throw ValidationError("--cut must be one of \(LabCut.allCases.map(\.rawValue).joined(separator: ", ")), found \(text)")
    }
    return kind
}

/// SIGSTOP or SIGCONT the agent beside `node`, in either lab.
private func freezeAgent(_ dir: String, _ node: String, _ freeze: Bool) throws -> Int32 {
    if let hosts = try RegionHostsLab.recorded(in: dir) { return try hosts.freezeAgent(try hosts.region(of: node), freeze) }
    return try Lab.freeze(dir: dir, node: node, freeze)
}
