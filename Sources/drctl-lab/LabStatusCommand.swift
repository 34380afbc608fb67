import ArgumentParser
import DRCommandLine
import DRLab

struct LabStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Where every lab server listens and whether it runs; exit 1 if any is down.")

    @OptionGroup var lab: LabDirOption

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        if let hosts = try recordedHostsLab(lab.dir) { return try await hostsStatus(hosts) }
        let status = try await labOperation { try Lab.status(dir: lab.dir) }
        if json {
            try JSONOutput.print(status)
        } else {
            let pid = { (pid: Int32?) in pid.map { "running (pid \($0))" } ?? "NOT RUNNING" }
            var rows = status.nodes.map { [$0.region, "postgres \($0.name)", "\($0.host):\($0.port)", pid($0.pid)] }
            rows += status.agents.map { [$0.region, "agent", "-", pid($0.pid)] }
            rows += status.etcdMembers.map { ["-", "etcd", $0.endpoint, pid($0.pid)] }
            rows.append(["-", "powerdns \(status.dns.zone)", "\(status.dns.host):\(status.dns.port), api \(status.dns.api)", pid(status.dns.pid)])
            print("lab \(status.dir)  config \(status.config)\n")
            print(TextTable.render(["REGION", "SERVER", "LISTENS", "PROCESS"], rows))
        }
        let allRunning =
            status.nodes.allSatisfy { $0.pid != nil } && status.agents.allSatisfy { $0.pid != nil }
            && status.etcdMembers.allSatisfy { $0.pid != nil } && status.dns.pid != nil
        if !allRunning { throw CLIExit.unhealthy }
    }
}

extension LabStatusCommand {
    /// Every process of a regions lab, by host, and the leader key as region3 reads it.
    func hostsStatus(_ lab: RegionHostsLab) async throws {
        let processes = lab.processes()
        if json {
            try JSONOutput.print(processes)
        } else {
            let rows = processes.map { [$0.host, $0.namespace, $0.process, $0.listens, $0.pid.map { "running (pid \($0))" } ?? "NOT RUNNING"] }
            print("lab \(lab.dir)  config \(lab.configFile)  leader key: \((try? await lab.leaderKey()).flatMap { $0 } ?? "none")\n")
            print(TextTable.render(["HOST", "NAMESPACE", "PROCESS", "LISTENS", "STATE"], rows))
        }
        if processes.contains(where: { $0.pid == nil }) { throw CLIExit.unhealthy }
    }
}
