import ArgumentParser
import DRCommandLine
import DRLab

/// `lab kill-etcd` and `lab start-etcd`: an etcd member lost and started again, in either lab.
struct LabKillEtcd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill-etcd", abstract: "SIGKILL an etcd member: etcd's raft leader by default (an election follows).")

    @OptionGroup var lab: LabDirOption
    @Option(help: "This member instead of the leader: a region (lab up --hosts) or a number from 1 (loopback lab).") var member: String?

    func run() async throws {
        let killed: String?
        if let hosts = try recordedHostsLab(lab.dir) {
            killed = try await labOperation { try await hosts.killEtcd(member) }.map { "the member of \($0)" }
        } else {
            guard member.map({ Int($0) != nil }) ?? true else { throw ValidationError("--member is a number from 1 in the loopback lab, found \(member ?? "")") }
            killed = try await labOperation { try await Lab.killEtcd(dir: lab.dir, member: member.flatMap { Int($0) }) }
        }
        guard let killed else { throw CLIExit.failed(member == nil ? "no etcd member reports a leader: nothing killed" : "that etcd member does not run: nothing killed") }
        print("killed etcd \(killed); start it again with `drctl-lab start-etcd`")
    }
}

struct LabStartEtcd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start-etcd", abstract: "Start every etcd member of the lab that does not run, and wait until each is healthy.")

    @OptionGroup var lab: LabDirOption

    func run() async throws {
        let started: [String]
        if let hosts = try recordedHostsLab(lab.dir) {
            started = try await labOperation { try await hosts.startStoppedEtcdMembers() }
        } else {
            started = try await labOperation { try await Lab.startStoppedEtcd(dir: lab.dir) }
        }
        print(started.isEmpty ? "every etcd member runs" : "started etcd: \(started.joined(separator: ", "))")
    }
}
