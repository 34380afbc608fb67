import DRCore
import DRSystem
import Foundation
import Logging

/// A second process that fences the node's database when the agent misses its lease
/// deadline — because the agent is frozen, stalled or dead, when its own timer cannot run.
///
/// Patroni relies on the Linux watchdog device for this; drctl keeps it in user space: the
/// agent writes its lease bookkeeping (the term, when the last confirmed renewal was sent
/// on CLOCK_MONOTONIC — shared by every process of the host — and the TTL) to a file after
/// every renewal, and this process, which shares no thread with the agent, asks `decide`
/// about it every 100 ms, exactly as the agent's own timer does.
public enum FencingWatchdog {
    /// The lease file of `node` in `stateDir`: `TERM SENT_NS TTL_NS`, or empty when the
    /// node holds no lease (nothing to guard).
    public static func leaseFile(stateDir: String, node: String) -> String { "\(stateDir)/\(node).lease" }

    public static func monotonicNow() -> AgentInstant {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return AgentInstant(.seconds(Int64(now.tv_sec)) + .nanoseconds(Int64(now.tv_nsec)))
    }

    /// Atomically replaces the published lease; `sentAt` is on CLOCK_MONOTONIC.
    static func publish(_ lease: LeaseBookkeeping?, to path: String) {
        let text = lease.map { "\($0.term) \($0.lastConfirmedRenewalSentAt.sinceStart.nanoseconds) \($0.ttl.nanoseconds)" } ?? ""
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func read(_ path: String) -> LeaseBookkeeping? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ").compactMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard fields.count == 3 else { return nil }
        return LeaseBookkeeping(term: fields[0], ttl: .nanoseconds(fields[2]), lastConfirmedRenewalSentAt: AgentInstant(.nanoseconds(fields[1])))
    }

    /// `drctl watchdog`: polls every 100 ms until its agent is gone and no lease is left to
    /// guard. Fences at most once per published lease.
    public static func run(config: ClusterConfig, node: NodeConfig, stateDir: String, agentPID: Int32, log: Logger) async {
        let file = leaseFile(stateDir: stateDir, node: node.name)
        let database = DatabaseActions(node: node, promotionTimeout: config.failover.promotionTimeout)
        let policy = FailoverPolicy(config)
        var fencedFor: LeaseBookkeeping?
        while true {
            let lease = read(file)
            let agentAlive = ProcessControl.isAlive(agentPID)
            if let lease, fencedFor != lease {
                // The agent publishes a lease only while it leads a writable database, and this
                // process does not probe it: it assumes the database is writable, the worst case.
                let view = ClusterView(me: node.name, local: LocalDatabase(state: .primary, lsn: nil), etcdReachable: false,
                                       leader: nil, members: [], lastPrimary: nil, lease: lease)
                for case .fence(_, let reason) in decide(view, policy: policy, now: monotonicNow()).actions {
                    fencedFor = lease
                    log.critical("agent missed its lease deadline: fencing the database",
                                 metadata: ["node": "\(node.name)", "agent_alive": "\(agentAlive)", "reason": "\(reason)"])
                    _ = FileManager.default.createFile(atPath: "\(stateDir)/\(node.name).fenced", contents: Data("watchdog: \(reason)".utf8))
                    do { try await database.fence() } catch { log.critical("watchdog could not fence", metadata: ["error": "\(error)"]) }
                }
            }
            if !agentAlive, lease == nil || fencedFor == lease { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
