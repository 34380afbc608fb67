import DRCoordination
import DRCore
import Foundation
import Logging
import ServiceLifecycle

/// The region agent's preflight: at start and every `every` (an hour by default), from this
/// host, with the result in `/status`, the metrics, the log (each blocking finding) and etcd
/// (`preflight/REGION`, which `drctl status` shows). It never changes anything, and a run
/// that fails to publish is retried at the next one.
struct PreflightService: Service {
    let live: LiveConfig
    var config: ClusterConfig { live.value }
    let region: String
    let coordinator: EtcdCoordinator
    let board: AgentStateBoard
    let metrics: AgentMetrics
    let sourceAddress: String?
    let log: Logger
    var every: Duration = .seconds(3600)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                // A check in flight (psql's connect timeout, a slow DNS API) must not hold
                // up the agent's exit on SIGTERM: the pass is abandoned, not awaited.
                await CancellableWait.until(Task { await runOnce() })
                try? await Task.sleep(for: every)
            }
        }
    }

    func runOnce() async {
        let local = config.regions.first { $0.name == region }?.nodes.map(\.name) ?? []
        let observations = await PreflightRunner.observe(config, sourceAddress: sourceAddress, localNodes: local)
        let findings = PreflightRules.findings(config: config, observations: observations)
        let report = PreflightReport(region: region, checkedAtMillis: Int64(Date().timeIntervalSince1970 * 1000), findings: findings)
        board.publish(report)
        metrics.preflight(report)
        metrics.archiveGaps(observations.archiveGaps)
        for finding in findings where finding.severity == .blocking {
            log.warning(
                "preflight: a DR operation would fail",
                metadata: ["check": "\(finding.check)", "node": "\(finding.node ?? "cluster")", "problem": "\(finding.problem)", "fix": "\(finding.fix)"])
        }
        log.info("preflight", metadata: ["blocking": "\(report.blocking)", "warnings": "\(report.warnings)"])
        do { try await coordinator.publishPreflight(report) } catch { log.notice("preflight: not published to etcd", metadata: ["error": "\(error)"]) }
    }
}
