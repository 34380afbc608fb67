import ArgumentParser
import DRAgent
import DRCommandLine
import DRCoordination
import DRCore
import DRHTTP
import DRPostgres
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "One row per node and the cluster verdict; exit 1 unless healthy.")

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "Per-node connect timeout (libpq rounds it up to 2s).")
    var connectTimeout: String = "2s"

    @Option(name: .long, help: "Wait up to this long (e.g. 60s) for the verdict to be healthy before answering (runbooks: after a change).")
    var waitHealthy: String?

    @Option(name: .long, help: "Wait up to this long for a primary that accepts writes (healthy or degraded), e.g. after a failover with a node still down.")
    var waitWritable: String?

    @Flag(name: .long, help: "Every cluster beside this one under the etcd prefix above it (e.g. /drctl/): one line each, from the agents' records.")
    var all = false

    func run() async throws {
        let (_, config) = try options.loadConfig()
        if all { return try await fleet(config) }
        guard let timeout = DurationText.parse(connectTimeout) else {
            throw CLIExit.badInput("--connect-timeout: expected a duration like 2s, found \"\(connectTimeout)\"")
        }
        var wait = Duration.zero
        for (flag, value) in [("--wait-healthy", waitHealthy), ("--wait-writable", waitWritable)] {
            guard let value else { continue }
            guard let parsed = DurationText.parse(value) else { throw CLIExit.badInput("\(flag): expected a duration like 60s, found \"\(value)\"") }
            wait = max(wait, parsed)
        }
        let enough: (StatusReport) -> Bool = { [waitWritable] report in
            report.isHealthy || (waitWritable != nil && report.verdict == .degraded)
        }
        let probe = NodeProbe(connectTimeout: timeout, statementTimeout: max(timeout, .seconds(2)))
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        var report: StatusReport
        repeat {
            async let observations = probe.observeAll(config)
            let coordination = await Self.readCoordination(config)
            // Without etcd (here, or at the leader: no key), only the agents know whether the
            // leader runs in failsafe.
            var failsafe: [FailsafeStatus] = []
            switch coordination {
            case .unreachable, .known(leader: nil, _, _, _, _): failsafe = await Self.failsafeOfAgents(config)
            case .known: break
            }
            report = ClusterStatus.evaluate(
                config: config, observations: await observations, coordination: coordination,
                nowMillis: Int64(Date().timeIntervalSince1970 * 1000), failsafe: failsafe)
            if enough(report) || clock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(500))
        } while true
        report.preflight = try? await EtcdCoordinator.forConfig(config).preflightReports()
        if options.json {
            try JSONOutput.print(report)
        } else {
            print(StatusTable.render(report, nowMillis: Int64(Date().timeIntervalSince1970 * 1000)))
        }
        if !report.isHealthy { throw CLIExit.unhealthy }
    }

    /// Each agent's failsafe state from its `/status` (one that does not answer is left out).
    static func failsafeOfAgents(_ config: ClusterConfig) async -> [FailsafeStatus] {
        await withTaskGroup(of: FailsafeStatus?.self) { group in
            for entry in config.nodes {
                guard let endpoint = config.apiEndpoint(of: entry.node.name) else { continue }
                group.addTask {
                    let request = HTTPRequest(url: "\(endpoint.url)/status", connectTimeout: .seconds(1), timeout: .seconds(2))
                    guard let response = try? await HTTPClient().send(request) else { return nil }
                    return (try? JSONDecoder().decode(NodeSnapshot.self, from: Data(response.body)))?.failsafe
                }
            }
            var found: [FailsafeStatus] = []
            for await status in group { if let status { found.append(status) } }
            return found
        }
    }

    static func readCoordination(_ config: ClusterConfig) async -> ClusterStatus.Coordination {
        do {
            let snapshot = try await EtcdCoordinator.forConfig(config).snapshot()
            return .known(leader: snapshot.leader, members: snapshot.members, paused: snapshot.paused, skipped: snapshot.skipped, progress: snapshot.progress)
        } catch {
            return .unreachable("\(error)")
        }
    }
}

/// The human form of `drctl status`.
enum StatusTable {
    static func render(_ report: StatusReport, nowMillis: Int64) -> String {
        let rows = report.nodes.map { node -> [String] in
            [
                node.region, node.name, node.role.rawValue, node.reachable ? "yes" : "no",
                "\(node.host):\(node.port)", node.timeline.map(String.init) ?? "-",
                node.lsn?.description ?? "-", node.receiveLSN?.description ?? "-",
                node.lagBytes.map(bytes) ?? "-", node.lagSeconds.map(seconds) ?? "-",
                state(node),
            ]
        }
        var text = "cluster \(report.cluster): \(report.verdict.rawValue)"
        if let leader = report.leader { text += "  leader \(leader)" }
        if let term = report.term { text += "  term \(term)" }
        if report.paused { text += "  PAUSED (maintenance: no automatic failover)" }
        if let failsafe = report.failsafe { text += "  FAILSAFE (\(failsafe.leader) writable without etcd on its members' confirmations)" }
        text +=
            "\n\n"
            + TextTable.render(
                ["REGION", "NODE", "ROLE", "REACHABLE", "ADDRESS", "TL", "LSN", "RECEIVED", "LAG", "LAG(S)", "STATE"], rows)
        if !report.problems.isEmpty {
            text += "\n\n" + report.problems.map { "! " + $0 }.joined(separator: "\n")
        }
        if let reports = report.preflight, !reports.isEmpty {
            text += "\n\npreflight (each agent, from its host):"
            for preflight in reports.sorted(by: { $0.region < $1.region }) {
                let age = max(0, nowMillis - preflight.checkedAtMillis) / 60_000
                text += "\n  \(preflight.region): \(preflight.blocking) blocking, \(preflight.warnings) warning(s), \(age) min ago"
                for finding in preflight.findings where finding.severity == .blocking {
                    text += "\n  ! \(finding.node ?? "cluster"): \(finding.check): \(finding.problem) (fix: \(finding.fix))"
                }
            }
            if reports.contains(where: { $0.blocking > 0 }) { text += "\n  (drctl preflight explains each finding)" }
        }
        return text
    }

    private static func state(_ node: StatusReport.NodeStatus) -> String {
        if let error = node.error { return error.split(separator: "\n").first.map(String.init) ?? error }
        let state =
            switch (node.replication, node.syncState) {
            case let (replication?, sync?): "\(replication) (\(sync))"
            case let (replication?, nil): replication
            default: node.role == .primary ? "accepting writes" : "-"
            }
        return node.pendingRestart ? state + ", pending restart" : state
    }

    static func bytes(_ value: UInt64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var amount = Double(value), unit = 0
        while amount >= 1024, unit < units.count - 1 { amount /= 1024; unit += 1 }
        return unit == 0 ? "\(value) B" : String(format: "%.1f %@", amount, units[unit])
    }

    static func seconds(_ value: Double) -> String {
        value == 0 ? "0" : String(format: "%.3f", value)
    }
}
