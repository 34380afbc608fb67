import DRBackup
import DRCoordination
import DRCore
import DRPostgres
import Foundation

/// The switchover drill for any cluster (`kind: switchover`, `target: cluster`): under a
/// probe write load — a small table the drill creates and drops, written through a libpq
/// multi-host connection that follows the primary — the primary is switched to a node of
/// `to:` the way `drctl switchover` does it, and the drill measures how long writes were
/// refused (the longest gap between acknowledged commits) and what was lost (acknowledged
/// ids missing on the new primary), checks that the managed DNS records were verified,
/// runs the validations, and, unless `switch_back: false`, switches back and measures that
/// too. It refuses to start unless the cluster is healthy with a standby there within the RPO.
struct SwitchoverDrill {
    let runner: DrillRunner

    func run(_ spec: DrillSpec, clock: PhaseClock, progress: @Sendable (String) -> Void) async throws -> DrillMeasurement {
        let config = runner.config
        let etcd = try EtcdCoordinator.forConfig(config)
        guard let region = spec.to, let leader = try await etcd.leader() else {
            throw DrillError.notReady("no primary holds the leader key: the cluster must be healthy before a drill")
        }
        let home = leader.node
        let target = try await choose(in: region, etcd: etcd)
        let load = try await ProbeLoad.start(config.nodes.map(\.node))
        var measured = DrillMeasurement()
        do {
            try await clock.phase("steady load") { try await Task.sleep(for: .seconds(2)) }
            let there = try await switchOver(to: target, from: home, etcd: etcd, acks: load.acks, clock: clock, progress: progress)
            var gaps = [there.gap]
            measured.notes.append(there.note)
            if spec.switchBack {
                try await clock.phase("\(home) rejoins as a standby") { _ = try await choose(in: nil, node: home, etcd: etcd, patience: .seconds(120)) }
                let back = try await switchOver(to: home, from: target, etcd: etcd, acks: load.acks, clock: clock, progress: progress)
                gaps.append(back.gap)
                measured.notes.append(back.note)
            }
            try await Task.sleep(for: .seconds(1))
            await load.stop()
            let primary = spec.switchBack ? home : target
            guard let node = config.node(named: primary)?.node else { throw DrillError.notReady("\(primary) is not in the configuration") }
            let (stored, lost) = try await load.survivors(on: node)
            measured.rto = gaps.max()
            measured.rpo = load.acks.lossWindow(survivors: stored).seconds
            measured.lostBytes = lost == 0 ? 0 : nil
            measured.notes.append("client: \(load.acks.count) writes acknowledged, \(lost) of them lost; the RTO is the longest time writes were refused")
            measured.validations = await clock.phase("validate") { await ValidationQueries.run(spec.validation, conninfo: node.conninfo) }
        } catch {
            await load.stop()
            await load.dropTable()
            throw error
        }
        await load.dropTable()
        return measured
    }

    /// The healthy standby of `region` (or `node`) a switchover may go to, within the RPO;
    /// waits up to `patience` for one (an old primary rejoining), else refuses with why.
    func choose(in region: String?, node: String? = nil, etcd: EtcdCoordinator, patience: Duration = .seconds(5)) async throws -> String {
        let config = runner.config
        let names = node.map { [$0] } ?? config.nodes.filter { $0.region.name == region }.map(\.node.name)
        guard !names.isEmpty else { throw DrillError.notReady("region \(region ?? "?") has no nodes to switch over to") }
        let deadline = ContinuousClock().now + patience
        var refusals: [String] = []
        repeat {
            refusals = []
            let leader = try await etcd.leader(), members = try await etcd.members(), progress = try await etcd.progress()
            let paused = try await etcd.isPaused(), failover = try await etcd.failoverIntent() != nil, switchover = try await etcd.switchoverIntent() != nil
            for name in names {
                guard
                    let refusal = SwitchoverCheck.refusal(
                        to: name, leader: leader, members: members, primaryProgress: progress, paused: paused, failoverPending: failover,
                        switchoverPending: switchover, lagLimit: config.objectives.rpo)
                else { return name }
                refusals.append(refusal)
            }
            try await Task.sleep(for: config.health.interval)
        } while ContinuousClock().now < deadline
        throw DrillError.notReady("refused, nothing was changed: \(refusals.joined(separator: "; "))")
    }

    /// Asks the agents to switch over, waits for the target to take writes and for the
    /// switchover's evidence (with its DNS verification), and places both on the timeline.
    func switchOver(
        to target: String, from: String, etcd: EtcdCoordinator, acks: AcknowledgedWrites, clock: PhaseClock, progress: @Sendable (String) -> Void
    ) async throws -> (gap: Double, note: String) {
        let config = runner.config
        let historyBefore = try await etcd.history().count
        progress("switching over \(from) -> \(target)")
        let requestedAt = clock.elapsed, requested = ContinuousClock.now
        try await etcd.setSwitchoverIntent(SwitchoverIntent(to: target, notBeforeMillis: nil, requestedAtMillis: Int64(Date().timeIntervalSince1970 * 1000)))
        clock.record("switchover \(from) -> \(target) requested", start: requestedAt, end: requestedAt + 0.01)
        let host = config.node(named: target)?.node.connection.host
        let limit = config.objectives.rto * 2 + .seconds(30)
        let deadline = ContinuousClock().now + limit
        var evidence: FailoverEvidence?
        while ContinuousClock().now < deadline {
            if acks.first(after: requested, from: host) != nil, let last = try? await etcd.history(), last.count > historyBefore, last.last?.promoted == target {
                evidence = last.last
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        guard let evidence, let first = acks.first(after: requested, from: host) else {
            throw DrillError.notReady("\(target) did not take writes within \(DurationText.format(limit)) of the switchover request")
        }
        let writable = clock.offset(of: first.at)
        clock.record("first write acknowledged by \(target)", start: requestedAt, end: writable)
        // From the last write before the request: the first gap may start there.
        let writes = acks.all
        let window = (writes.last { $0.at < requested }.map { [$0] } ?? []) + writes.filter { $0.at >= requested }
        let gap = zip(window, window.dropFirst()).map { ($1.at - $0.at).seconds }.max() ?? 0
        var note = "\(from) -> \(target) under term \(evidence.term): writes refused for \(String(format: "%.2f", gap)) s at most"
        if !config.dns.records.isEmpty {
            guard evidence.events.contains(where: { $0.name == "DNS verified" }) else {
                throw DrillError.notReady("the switchover to \(target) finished without the managed DNS records verified: \(evidence.events.map(\.name))")
            }
            note += "; DNS verified"
        }
        return (gap, note)
    }
}
