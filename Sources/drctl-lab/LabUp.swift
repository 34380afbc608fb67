import ArgumentParser
import DRCommandLine
import DRCore
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

    @Option(name: .long, help: "coordination.lease_ttl of the lab's agents (default 2s).")
    var leaseTTL: String?

    @Flag(
        name: .long, inversion: .prefixedNo,
        help: "Name each region's etcd member in the configuration, so the leader's agent keeps etcd's raft leader out of the primary's region (with --hosts, or --etcd-members 3).")
    var etcdPlacement: Bool?

    @Flag(name: .long, help: "Regions as separate hosts: a network namespace per region with its own database, agent and etcd member, DNS in a host of its own (root).")
    var hosts = false

    @Option(name: .long, help: "With --hosts: the round trip between any two regions, e.g. 40ms.")
    var latency: String = "0ms"

    @Option(name: .long, help: "With --hosts: random variation of the round trip, e.g. 4ms.")
    var jitter: String = "0ms"

    @Option(name: .long, help: "With --hosts: fraction of chunks that cost a retransmission between regions, e.g. 0.01.")
    var loss: Double = 0

    func run() async throws {
        // The agents run the `agent` command of the drctl built beside this executable.
        let binary = CommandMain.beside("drctl")
        if hosts, leaseTTL != nil { throw ValidationError("--lease-ttl: a regions lab runs the recommended 5s") }
        if hosts { return try await upAsHosts(binary: binary) }
        if try recordedHostsLab(lab.dir) != nil { throw CLIExit.failed("a regions lab runs in \(lab.dir): drctl-lab down --dir \(lab.dir) first") }
        guard latency == "0ms", jitter == "0ms", loss == 0 else { throw ValidationError("--latency, --jitter and --loss need --hosts (loopback has no distance)") }
        let state = try await labOperation {
            try await Lab.up(
                dir: lab.dir, agentBinary: binary, etcdMembers: etcdMembers,
                failover: LabFailoverSettings(
                    synchronous: synchronous, autoRejoin: autoRejoin, healthInterval: healthInterval, failsafe: failsafe, leaseTTL: leaseTTL,
                    etcdPlacement: etcdPlacement ?? false),
                progress: printProgress)
        }
        print(
            """

            lab is up in \(state.dir)
              drctl status --config \(state.configFile)
              drctl-lab status --dir \(state.dir)
              drctl-lab down --dir \(state.dir)
            """)
    }
}

extension LabUp {
    /// `lab up --hosts`: the regions lab with databases, agents and DNS, with docs/failsafe.md's
    /// recommended cross-region settings (its options are the regions', not the loopback's).
    func upAsHosts(binary: String) async throws {
        guard etcdMembers == 1, !synchronous, !failsafe, healthInterval == nil else {
            throw ValidationError(
                "with --hosts every region runs one etcd member and the recommended cross-region settings: --etcd-members, --synchronous, --failsafe and --health-interval apply to the loopback lab only"
            )
        }
        guard let latency = DurationText.parse(latency), let jitter = DurationText.parse(jitter) else {
            throw ValidationError("--latency and --jitter take durations like 40ms")
        }
        guard (0..<1).contains(loss) else { throw ValidationError("--loss is a fraction from 0 up to 1, e.g. 0.01") }
        let dir = Lab.absolute(lab.dir)
        if FileManager.default.fileExists(atPath: "\(dir)/lab.json") { throw CLIExit.failed("a loopback lab runs in \(dir): drctl-lab down --dir \(lab.dir) first") }
        let regions = try await labOperation {
            try await RegionHostsLab.up(
                dir: dir, binary: binary, latency: latency, jitter: jitter, loss: loss, databases: true, agents: true, autoRejoin: autoRejoin,
                etcdPlacement: etcdPlacement ?? true, progress: printProgress)
        }
        let operatorHost = regions.namespace("region3") ?? ""
        print(
            """

            lab is up in \(dir): regions as hosts, \(DurationText.format(latency)) between regions
              ip netns exec \(operatorHost) \(binary) status --config \(regions.configFile)
              drctl-lab status --dir \(lab.dir)
              drctl-lab down --dir \(lab.dir)
            operator commands run from a region's host (region3 has no database): ip netns exec \(operatorHost) COMMAND
            """)
    }
}
