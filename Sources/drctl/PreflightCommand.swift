import ArgumentParser
import DRCoordination
import DRCore
import DRDNS
import DRPostgres
import DRSystem
import Foundation

/// `drctl preflight`: everything a failover, switchover, rejoin, backup or restore will need,
/// checked now without changing anything, so the outage is not where it surfaces.
struct PreflightCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preflight",
        abstract: "Check, without changing anything, what DR operations will need; exit 1 on any blocking finding.",
        discussion: """
            Reads every node's settings (wal_level, max_wal_senders, max_replication_slots, hot_standby, \
            wal_log_hints or data checksums, archive_mode/archive_command and the archiver's state, \
            restore_command, the primary's slots), tries a replication connection to each node from this \
            host (pg_hba.conf), times a linearizable etcd read, and reads every managed DNS record through \
            its provider. Each finding names the node, what is wrong, why it matters for DR and the fix.
            """)

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let (_, config) = try options.loadConfig()
        let observations = await Self.observe(config)
        let findings = PreflightRules.findings(config: config, observations: observations)
        if options.json {
            try JSONOutput.print(findings)
        } else if findings.isEmpty {
            print("preflight: nothing found (\(config.nodes.count) nodes, etcd, \(config.dns.records.count) DNS records checked from this host)")
        } else {
            for finding in findings {
                print("\(finding.severity == .blocking ? "BLOCKING" : "warning ")  \(finding.node ?? "cluster"): \(finding.check): \(finding.problem)")
                print("          why: \(finding.why)")
                print("          fix: \(finding.fix)")
            }
        }
        if findings.contains(where: { $0.severity == .blocking }) { throw CLIExit.unhealthy }
    }

    /// Every observation at once; the slowest bounds the time.
    static func observe(_ config: ClusterConfig) async -> PreflightObservations {
        async let etcd = etcdRead(config)
        async let dns = dnsReads(config)
        var nodes: [String: PreflightObservations.NodeRead] = [:]
        var refused: [String: String?] = [:]
        await withTaskGroup(of: (String, PreflightObservations.NodeRead, String?).self) { group in
            for (_, node) in config.nodes {
                group.addTask {
                    async let settings = PreflightProbe().settings(node: node.name, conninfo: node.conninfo)
                    async let refusal = replicationRefusal(conninfo: node.conninfo)
                    return (node.name, await settings, await refusal)
                }
            }
            for await (name, settings, refusal) in group {
                nodes[name] = settings
                refused[name] = .some(refusal)
            }
        }
        return PreflightObservations(nodes: nodes, replicationRefused: refused, etcd: await etcd, dnsReadFailed: await dns)
    }

    static func etcdRead(_ config: ClusterConfig) async -> PreflightObservations.EtcdRead {
        do {
            let coordinator = try EtcdCoordinator.forConfig(config)
            let clock = ContinuousClock()
            let started = clock.now
            _ = try await coordinator.leader()
            return .answered(clock.now - started)
        } catch {
            return .failed("\(error)")
        }
    }

    static func dnsReads(_ config: ClusterConfig) async -> [String: String?] {
        guard !config.dns.records.isEmpty else { return [:] }
        let switcher: DNSSwitcher
        do { switcher = try DNSSwitcher(config: config) } catch {
            return Dictionary(uniqueKeysWithValues: config.dns.records.map { ($0.name, .some("\(error)")) })
        }
        var failures: [String: String?] = [:]
        for record in config.dns.records {
            do {
                guard let provider = switcher.providers[record.provider] else { throw CLIExit.failed("no provider \(record.provider)") }
                _ = try await provider.read(name: record.name, type: record.type, deadline: ContinuousClock().now + .seconds(10))
                failures[record.name] = .some(nil)
            } catch {
                failures[record.name] = .some("\(error)")
            }
        }
        return failures
    }

    /// Why a replication connection from here to the node is refused (nil: accepted):
    /// psql's IDENTIFY_SYSTEM over `replication=true`, which pg_hba.conf's replication lines decide.
    static func replicationRefusal(conninfo: String) async -> String? {
        do {
            let output = try await CommandRunner.run(["psql", "\(conninfo) replication=true connect_timeout=3", "-X", "-qtA", "-c", "IDENTIFY_SYSTEM"], check: false)
            guard output.status != 0 else { return nil }
            let message = output.stderr.split(separator: "\n").first.map(String.init) ?? "psql exited \(output.status)"
            return message.replacing("psql: error: ", with: "")
        } catch {
            return "could not run psql: \(error)"
        }
    }
}
