import DRBackup
import DRCoordination
import DRCore
import Foundation

/// The failover drill on a real cluster (`kind: failover`, `target: cluster`): the fault is
/// real — the primary's agent stops its database with an immediate shutdown, as a crash
/// would — and everything after it is the agents' own failover. It runs only when asked
/// with `--confirm CLUSTER` naming this cluster, and only on a healthy cluster with a
/// standby within the RPO; otherwise it refuses with nothing changed. Under a probe write
/// load it measures, on this host's clock, how long writes were refused (the last commit
/// the old primary acknowledged to the first the new one did) and which acknowledged
/// commits are missing, requires DNS verified when records are managed, and runs the
/// validations. The cluster is left failed over: the old primary stays fenced until
/// `drctl rejoin` (or rejoins by itself with `failover.auto_rejoin`).
struct ClusterFailoverDrill {
    let runner: DrillRunner

    func run(_ spec: DrillSpec, clock: PhaseClock, progress: @Sendable (String) -> Void) async throws -> DrillMeasurement {
        let config = runner.config
        guard runner.confirmedCluster == config.cluster else {
            throw DrillError.notReady(
                "a failover drill on a real cluster crashes its primary: run it with --confirm \(config.cluster) (nothing was changed)")
        }
        let etcd = try EtcdCoordinator.forConfig(config)
        let (primary, candidates) = try await ready(etcd)
        let historyBefore = try await etcd.history().count
        let load = try await ProbeLoad.start(config.nodes.map(\.node))
        var measured = DrillMeasurement()
        do {
            try await clock.phase("steady load") { try await Task.sleep(for: .seconds(2)) }
            progress("asking \(primary)'s agent to crash its database (immediate shutdown); candidates: \(candidates.joined(separator: ", "))")
            let faultAt = clock.elapsed, fault = ContinuousClock.now
            try await etcd.setDrillCrashIntent(node: primary, true, expiry: .seconds(60))
            clock.record("fault: \(primary) crashed by its agent", start: faultAt, end: faultAt + 0.01)
            let limit = config.objectives.rto * 2 + .seconds(30)
            let deadline = ContinuousClock().now + limit
            var evidence: FailoverEvidence?
            while ContinuousClock().now < deadline {
                if let history = try? await etcd.history(), history.count > historyBefore, let last = history.last, last.promoted != primary,
                    load.acks.first(after: fault, from: config.node(named: last.promoted)?.node.connection.host) != nil
                {
                    evidence = last
                    break
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            guard let evidence, let promoted = config.node(named: evidence.promoted)?.node else {
                try? await etcd.setDrillCrashIntent(node: primary, false, expiry: .seconds(60))
                throw DrillError.notReady("no failover happened within \(DurationText.format(limit)) of the fault")
            }
            try await Task.sleep(for: .seconds(1))
            await load.stop()
            let writes = load.acks.all
            let firstNew = writes.first { $0.at > fault && $0.server == promoted.connection.host }
            let lastOld = writes.last { $0.at < (firstNew?.at ?? fault) && $0.server != promoted.connection.host }
            if let lastOld, let firstNew {
                clock.record("writes refused", start: clock.offset(of: lastOld.at), end: clock.offset(of: firstNew.at))
                measured.rto = (firstNew.at - lastOld.at).seconds
            }
            let (stored, lost) = try await load.survivors(on: promoted)
            let window = load.acks.lossWindow(survivors: stored).seconds
            measured.rpo = max(window, evidence.dataLostSeconds ?? 0)
            measured.lostBytes = evidence.dataLostBytes
            if !config.dns.records.isEmpty, !evidence.events.contains(where: { $0.name == "DNS verified" }) {
                throw DrillError.notReady("the failover to \(promoted.name) finished without the managed DNS records verified")
            }
            measured.validations = await clock.phase("validate") { await ValidationQueries.run(spec.validation, conninfo: promoted.conninfo) }
            measured.notes += [
                "\(primary) -> \(promoted.name) under term \(evidence.term): \(evidence.reason)\(config.dns.records.isEmpty ? "" : "; DNS verified")",
                "client: \(load.acks.count) writes acknowledged, \(lost) of them lost; the RTO is the time between the last write the old primary acknowledged and the first the new one did",
                "the agents' evidence: RTO \(String(format: "%.2f", evidence.rtoSeconds)) s from the first failed check, data lost \(evidence.dataLostBytes.map { "\($0) bytes" } ?? "unknown")",
                config.failover.autoRejoin
                    ? "\(primary) rejoins as a standby by itself (failover.auto_rejoin)" : "\(primary) stays fenced until `drctl rejoin \(primary)`",
            ]
        } catch {
            await load.stop()
            await load.dropTable()
            throw error
        }
        await load.dropTable()
        return measured
    }

    /// The primary and the standbys that could take over, or why the drill must not start.
    func ready(_ etcd: EtcdCoordinator) async throws -> (primary: String, candidates: [String]) {
        let config = runner.config
        guard let leader = try await etcd.leader() else { throw DrillError.notReady("no primary holds the leader key: the cluster must be healthy first") }
        let members = try await etcd.members(), progress = try await etcd.progress()
        guard members.contains(where: { $0.name == leader.node && $0.role == .primary && $0.healthy }) else {
            throw DrillError.notReady("the primary \(leader.node) is not healthy: the cluster must be healthy before a failover drill")
        }
        let paused = try await etcd.isPaused(), failover = try await etcd.failoverIntent() != nil, switchover = try await etcd.switchoverIntent() != nil
        var refusals: [String] = []
        let candidates = config.nodes.map(\.node.name).filter { $0 != leader.node }.filter { name in
            let refusal = SwitchoverCheck.refusal(
                to: name, leader: leader, members: members, primaryProgress: progress, paused: paused, failoverPending: failover,
                switchoverPending: switchover, lagLimit: config.objectives.rpo)
            if let refusal { refusals.append(refusal) }
            return refusal == nil
        }
        guard !candidates.isEmpty else {
            throw DrillError.notReady("no standby could take over within the RPO, so nothing was changed: \(refusals.joined(separator: "; "))")
        }
        return (leader.node, candidates)
    }
}
