import ArgumentParser
import DRAgent
import DRCommandLine
import DRCore
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
        // This host's nodes: those whose data directory is here.
        let local = config.nodes.map(\.node).filter { $0.dataDir.map { FileManager.default.fileExists(atPath: "\($0)/PG_VERSION") } ?? false }
        let observations = await PreflightRunner.observe(config, localNodes: local.map(\.name))
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
}
