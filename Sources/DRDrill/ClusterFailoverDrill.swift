import DRBackup
import DRCoordination
import DRCore
import Foundation

/// The failover drill on a real cluster (`kind: failover`, `target: cluster`): the fault is
/// real — the primary's agent stops its database with an immediate shutdown, as a crash
/// would — and everything after it is the agents' own failover. It runs only when asked
/// with `--confirm CLUSTER` naming this cluster, and only on a healthy cluster with a
/// standby within the RPO, outside the failover cooldown; otherwise it refuses with nothing
/// changed. Under a probe write load it measures, on this host's clock, how long writes
/// were refused (the last commit acknowledged before the crash to the first after it,
/// whichever node took it) and which acknowledged commits are missing; it fails when the
/// old primary, not a standby, took the writes back (no failover exercised), requires DNS
/// verified when records are managed, and runs the validations. The cluster is left failed over: the old primary stays fenced until
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
            // The outage is measured whatever ends it: a standby's promotion, or the old
            // primary back as the last leader; which one it was is the second verdict. It is
            // the first gap in the acknowledged writes well beyond the client's steady pace.
            let threshold = max(.milliseconds(50), (load.acks.typicalGap(before: fault) ?? .milliseconds(5)) * 10)
            var outage = load.acks.outage(endingAfter: fault, threshold: threshold)
            while ContinuousClock().now < deadline, outage == nil {
                try await Task.sleep(for: .milliseconds(200))
                outage = load.acks.outage(endingAfter: fault, threshold: threshold)
            }
            guard let (lastOld, resumed) = outage else {
                try? await etcd.setDrillCrashIntent(node: primary, false, expiry: .seconds(60))
                throw DrillError.notReady("no node took writes within \(DurationText.format(limit)) of the fault (or they never stopped): the RTO was not met")
            }
            // The agents' record of the new term follows the first write closely.
            var evidence: FailoverEvidence?
            for _ in 0..<25 where evidence == nil {
                try await Task.sleep(for: .milliseconds(200))
                evidence = try? await etcd.history().dropFirst(historyBefore).last
            }
            await load.stop()
            let sharing = config.nodes.filter { $0.node.connection.host == resumed.server }.map(\.node)
            guard let taking = sharing.count == 1 ? sharing.first : evidence.flatMap({ config.node(named: $0.promoted)?.node }) else {
                throw DrillError.notReady("writes resumed on \(resumed.server), which is no single node of the config")
            }
            clock.record("writes refused", start: clock.offset(of: lastOld.at), end: clock.offset(of: resumed.at))
            measured.rto = (resumed.at - lastOld.at).seconds
            let (stored, lost) = try await load.survivors(on: taking)
            let window = load.acks.lossWindow(survivors: stored).seconds
            measured.rpo = max(window, taking.name == primary ? 0 : evidence?.dataLostSeconds ?? 0)
            measured.lostBytes = taking.name == primary ? 0 : evidence?.dataLostBytes
            let outageText = measured.rto.map { String(format: "%.2f s", $0) } ?? "an unmeasured time"
            if taking.name == primary {
                measured.problems.append(
                    "no failover was exercised: \(primary) itself took writes again after \(outageText)"
                        + (evidence.map { " (\($0.reason))" } ?? "") + "; no standby (\(candidates.joined(separator: ", "))) took over. "
                        + "See `drctl history` and the standbys' agent logs for what held them")
            } else if !config.dns.records.isEmpty, !(evidence?.events.contains(where: { $0.name == "DNS verified" }) ?? false) {
                throw DrillError.notReady("the failover to \(taking.name) finished without the managed DNS records verified")
            }
            let promoted = taking
            measured.validations = await clock.phase("validate") { await ValidationQueries.run(spec.validation, conninfo: promoted.conninfo) }
            measured.notes += [
                taking.name == primary
                    ? "failover exercised: no — \(primary) took the writes back itself"
                    : "failover exercised: \(primary) -> \(promoted.name)"
                        + (evidence.map { " under term \($0.term): \($0.reason)" } ?? "") + (config.dns.records.isEmpty ? "" : "; DNS verified"),
                "client: \(load.acks.count) writes acknowledged, \(lost) of them lost; the RTO is the time between the last write acknowledged before the crash "
                    + "and the first after it, whichever node took it",
                evidence.map { "the agents' evidence: RTO \(String(format: "%.2f", $0.rtoSeconds)) s from the first failed check, data lost \($0.dataLostBytes.map { "\($0) bytes" } ?? "unknown")" }
                    ?? "the agents recorded no new term",
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
        // A failover or switchover within the cooldown makes the agents hold the next
        // automatic failover for an operator: the drill would measure the hold, not a failover.
        // (Agents mean to leave switchovers out of the cooldown, but one that saw only the new
        // term cannot tell; so both count here.) A few seconds more cover clock skew.
        if let last = try await etcd.history().last, let finished = UTCTime.parse(last.finishedAt) {
            let since = Duration.seconds(max(0, Date().timeIntervalSince(finished)))
            let wait = config.failover.cooldown + .seconds(5) - since
            if config.failover.cooldown > .zero, wait > .zero {
                throw DrillError.notReady(
                    "the last failover or switchover (\(last.reason), term \(last.term)) was \(DurationText.format(since)) ago; within failover.cooldown "
                        + "(\(DurationText.format(config.failover.cooldown))) the agents would hold this failover for an operator: run the drill in "
                        + "\(DurationText.format(wait)) (nothing was changed)")
            }
        }
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
