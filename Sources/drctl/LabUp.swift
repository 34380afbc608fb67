import ArgumentParser
import DRLab
import Foundation

struct LabUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a primary, a streaming hot standby, a cold region, etcd, PowerDNS and the agents; write DIR/drctl.yaml.")

    @OptionGroup var lab: LabDirOption

    @Option(name: .long, help: "etcd members: 1, or a cluster of 3 or 5 (as production runs across regions).")
    var etcdMembers: Int = 1

    @Flag(name: .long, help: "Synchronous replication managed by the leader: a failover loses no acknowledged commit.")
    var synchronous = false

    @Flag(name: .long, help: "failover.auto_rejoin: a fenced old primary rejoins as a standby of the new one by itself (pg_rewind).")
    var autoRejoin = false

    @Flag(name: .long, help: "failover.failsafe: while etcd is unreachable the primary stays writable as long as every member's agent confirms it.")
    var failsafe = false

    @Option(name: .long, help: "health.interval of the lab's agents (default 500ms).")
    var healthInterval: String?

    func run() async throws {
        // The agents run this very executable's `agent` command.
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let state = try await labOperation {
            try await Lab.up(
                dir: lab.dir, agentBinary: binary, etcdMembers: etcdMembers,
                failover: LabFailoverSettings(synchronous: synchronous, autoRejoin: autoRejoin, healthInterval: healthInterval, failsafe: failsafe),
                progress: printProgress)
        }
        print(
            """

            lab is up in \(state.dir)
              drctl status --config \(state.configFile)
              drctl lab status --dir \(state.dir)
              drctl lab down --dir \(state.dir)
            """)
    }
}
