import DRCore
import Foundation

/// What the agent shows outside after each loop: the snapshot its HTTP API answers from,
/// and the node's gauges.
extension NodeAgent {
    /// Unreadable etcd records are counted every read (a rate shows they persist), and
    /// logged when the set of them changes, not every loop.
    func reportSkipped(_ skipped: [SkippedRecord]) {
        metrics.skippedRecords(node.name, skipped.count)
        let now = Set(skipped)
        guard now != lastSkipped else { return }
        for record in now.subtracting(lastSkipped) {
            log.warning("skipping an etcd record this version cannot read", metadata: ["key": "\(record.key)", "reason": "\(record.reason)"])
        }
        lastSkipped = now
    }

    /// The snapshot the HTTP API answers from, and the gauges, after each loop.
    func report(_ local: LocalDatabase) {
        var streaming = false
        if case .standby(let state)? = probeResult { streaming = state.walReceiverStatus == "streaming" }
        let isLeader = leader?.node == node.name
        var lagBytes: UInt64?
        if local.state == .standby, let primary = lastPrimary?.lsn, let received = local.lsn { lagBytes = primary.bytesAhead(of: received) }
        let lagSeconds = local.state == .standby ? lastPrimary?.standbyLagSeconds[node.name] : nil
        let holdsLease = isLeader && leaseBook.map { !SafetyChecks.mustSelfFence($0, now: now, margin: policy.fencingMargin) } == true
        board.publish(NodeSnapshot(
            node: node.name, region: region.name, state: local.state.rawValue, leader: leader?.node, term: leader?.term, holdsLease: holdsLease,
            timeline: local.timeline, lsn: local.lsn, streaming: streaming, lagBytes: lagBytes, lagSeconds: lagSeconds,
            noloadbalance: node.tags.contains(.noloadbalance), paused: paused, hold: lastHold, rule: lastRule, tickedAt: board.now))
        let up = local.state == .primary || local.state == .standby
        metrics.nodeUp(node.name, up)
        metrics.healthCheck(node.name, passed: up)
        metrics.consecutiveFailures(node.name, local.failedChecks)
        metrics.replication(node.name, lagBytes: lagBytes, lagSeconds: lagSeconds)
        metrics.leader(node.name, term: leader?.term, isLeader: isLeader)
    }
}
