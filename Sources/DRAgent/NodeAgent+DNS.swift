import DRCore
import DRDNS
import Foundation
import Logging

/// The leader's DNS switches: run beside the loop (provider calls and verification take
/// seconds, and the lease must keep being renewed meanwhile), each write preceded by a
/// fresh check in etcd that this agent still leads under the action's term.
extension NodeAgent {
    /// Launches the DNS switches the decision asked for, all in one batch, and records
    /// evidence that no longer waits for anything.
    func finishDecision() {
        let batch = dnsBatch
        dnsBatch = []
        if !batch.isEmpty { launchDNS(batch) }
        if batch.isEmpty, let awaiting = evidenceAwaiting, !dnsState.values.contains(where: { $0.term == awaiting.term && $0.phase == .inFlight }) {
            evidenceAwaiting = nil
            _ = clock.schedule(at: now) { try? await self.recordEvidence(term: awaiting.term, local: awaiting.local) }
        }
    }

    private func launchDNS(_ batch: [DNSBatchItem]) {
        let switcher: DNSSwitcher
        switch dns {
        case .success(let built): switcher = built
        case .failure(let error):
            return dnsFinished(batch.map { DNSSwitchResult(record: $0.record, node: $0.node, term: $0.term, recheck: $0.recheck, error: "DNS providers unavailable: \(error)") })
        }
        var sets: [(provider: String, set: DNSRecordSet)] = []
        var unbuildable: [DNSSwitchResult] = []
        for item in batch {
            guard let record = config.dns.records.first(where: { $0.name == item.record }), let target = config.node(named: item.node)?.node else {
                unbuildable.append(DNSSwitchResult(record: item.record, node: item.node, term: item.term, recheck: item.recheck, error: "no such record or node in the config"))
                continue
            }
            switch DNSTargets.recordSet(record, pointingAt: target) {
            case .success(let set): sets.append((record.provider, set))
            case .failure(let error): unbuildable.append(DNSSwitchResult(record: item.record, node: item.node, term: item.term, recheck: item.recheck, error: error.message))
            }
        }
        if !unbuildable.isEmpty { dnsFinished(unbuildable) }
        guard !sets.isEmpty, let term = batch.first?.term else { return }
        let coordinator = coordinator, me = node.name, deadline = ContinuousClock.now + config.failover.dnsUpdateTimeout
        let items = Dictionary(batch.map { ($0.record, $0) }, uniquingKeysWith: { $1 })
        let launched = ContinuousClock.now
        if batch.contains(where: { !$0.recheck }) {
            log.notice("switching DNS", metadata: ["records": "\(sets.map { $0.set.description })", "term": "\(term)"])
        }
        Task {
            let outcomes = await switcher.apply(sets, comment: "drctl: \(me) leads under term \(term)", deadline: deadline) {
                do {
                    let leader = try await coordinator.leader()
                    return leader?.node == me && leader?.term == term ? nil : "refused: term \(term) is stale (etcd names \(leader.map { "\($0.node), term \($0.term)" } ?? "no leader"))"
                } catch {
                    return "refused: cannot confirm term \(term) in etcd (\(error))"
                }
            }
            self.dnsFinished(
                outcomes.map {
                    DNSSwitchResult(
                        record: $0.record, node: items[$0.record]?.node ?? "?", term: term, recheck: items[$0.record]?.recheck ?? false,
                        switchedAt: $0.switchedAt, verifiedAt: $0.verifiedAt, error: $0.error, startedAt: launched)
                })
        }
    }

    func dnsFinished(_ results: [DNSSwitchResult]) {
        for result in results {
            let changed = result.switchedAt != nil
            // A re-read that found the record as it should be is no update: it leaves the
            // duration of the last real switch in place.
            if changed || result.error != nil || !result.recheck {
                metrics.dnsUpdate(record: result.record, seconds: result.verifiedAt.map { ($0 - result.startedAt).seconds }, failed: result.error != nil)
            }
            if let error = result.error {
                dnsState[result.record] = DNSRecordState(node: result.node, term: result.term, phase: .failed(at: now))
                log.error("DNS switch failed", metadata: ["record": "\(result.record)", "to": "\(result.node)", "error": "\(error)"])
                notify(
                    .dnsFailed, .error, "DNS record \(result.record) could not be pointed at \(result.node): \(error)",
                    key: "dns-\(result.record)-term-\(result.term)", details: ["record": result.record, "target": result.node, "error": "\(error)"])
                continue
            }
            dnsState[result.record] = DNSRecordState(node: result.node, term: result.term, phase: .synced(at: now))
            let metadata: Logger.Metadata = ["record": "\(result.record)", "to": "\(result.node)"]
            switch (result.recheck, changed) {
            case (true, true):
                metrics.dnsDriftRepaired(record: result.record)
                log.warning("DNS record had drifted from its target: repaired", metadata: metadata)
            case (true, false): log.debug("DNS record re-read: as it should be", metadata: metadata)
            case (false, true): log.notice("DNS switched and verified", metadata: metadata)
            case (false, false): log.notice("DNS already pointed at its target", metadata: metadata)
            }
        }
        guard let awaiting = evidenceAwaiting, let term = results.first?.term, awaiting.term == term else { return }
        if let switched = results.compactMap(\.switchedAt).min() { evidence?.mark("DNS switched", at: clock.instant(of: switched)) }
        if results.allSatisfy({ $0.verifiedAt != nil }), let verified = results.compactMap(\.verifiedAt).max() {
            evidence?.mark("DNS verified", at: clock.instant(of: verified))
        }
        guard !dnsState.values.contains(where: { $0.term == term && $0.phase == .inFlight }) else { return }
        evidenceAwaiting = nil
        _ = clock.schedule(at: now) { try? await self.recordEvidence(term: awaiting.term, local: awaiting.local) }
    }
}

/// One managed record the decision asked to point at `node`; `recheck` when it was
/// verified before under the same term (the periodic re-read).
struct DNSBatchItem: Sendable {
    var record: String
    var node: String
    var term: Int64
    var recheck: Bool
}

/// How one record's switch ended, as the agent books it.
struct DNSSwitchResult: Sendable {
    var record: String
    var node: String
    var term: Int64
    var recheck = false
    var switchedAt: ContinuousClock.Instant? = nil
    var verifiedAt: ContinuousClock.Instant? = nil
    var error: String?
    /// When the switch was launched.
    var startedAt = ContinuousClock().now
}
