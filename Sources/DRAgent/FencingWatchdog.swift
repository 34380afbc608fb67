import DRCore
import DRSystem
import Foundation
import Logging

/// A second process that fences the node's database when the agent misses its lease
/// deadline — because the agent is frozen, stalled or dead, when its own timer cannot run.
///
/// Patroni relies on the Linux watchdog device for this; drctl keeps it in user space: the
/// agent writes its lease bookkeeping (the term, when the last confirmed renewal was sent
/// on CLOCK_MONOTONIC — shared by every process of the host — the TTL, and the boot id that
/// makes the instant meaningful) to a file after every renewal, and this process, which
/// shares no thread with the agent, asks `decide` about it at the deadline, exactly as the
/// agent's own timer does. It outlives its agent: an agent stopped by its service manager
/// leaves its lease to the watchdog, which fences at the deadline unless the restarted
/// agent renews first.
public enum FencingWatchdog {
    /// The lease file of `node` in `stateDir` (see `PublishedLease`); empty when the node
    /// holds no lease (nothing to guard).
    public static func leaseFile(stateDir: String, node: String) -> String { "\(stateDir)/\(node).lease" }

    public static func monotonicNow() -> AgentInstant {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return AgentInstant(.seconds(Int64(now.tv_sec)) + .nanoseconds(Int64(now.tv_nsec)))
    }

    /// This boot's id: CLOCK_MONOTONIC instants mean something only within one boot.
    public static func bootID() -> String {
        ((try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? "unknown")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Atomically replaces the published lease; `sentAt` is on CLOCK_MONOTONIC.
    static func publish(_ lease: LeaseBookkeeping?, to path: String) {
        let text = lease.map { PublishedLease(lease: $0, bootID: bootID(), agentPID: getpid()).text } ?? ""
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func read(_ path: String) -> PublishedLease? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap(PublishedLease.init(text:))
    }

    /// `drctl watchdog`: reads the lease file at its deadline and at least every 250 ms, until
    /// its agent is gone and no lease is left to guard (or the task is cancelled). Fences once
    /// per published lease, trying again until the fence is proven (no PostgreSQL process left
    /// in the data directory).
    /// - Parameters:
    ///   - database: PostgreSQL through `pg_ctl` unless given; `clock`: the host's monotonic
    ///     clock unless given; `isAlive`: whether a process runs (tests run agents in-process).
    public static func run(
        config: ClusterConfig, node: NodeConfig, stateDir: String, agentPID: Int32, log: Logger,
        database: (any DatabaseController)? = nil, clock: any AgentClock = SystemAgentClock(),
        isAlive: @escaping @Sendable (Int32) -> Bool = ProcessControl.isAlive
    ) async {
        let file = leaseFile(stateDir: stateDir, node: node.name)
        let database = database ?? PostgresController(node: node, promotionTimeout: config.failover.promotionTimeout, healthTimeout: config.health.timeout)
        let policy = FailoverPolicy(config)
        var fencedFor: LeaseBookkeeping?
        var attempts = 0
        let boot = bootID()
        while !Task.isCancelled {
            let published = read(file)
            let lease = published?.effective(bootID: boot)
            let agentAlive = isAlive(agentPID)
            if let lease, fencedFor != lease {
                // The agent publishes a lease only while it leads a writable database, and this
                // process does not probe it: it assumes the database is writable, the worst case.
                let view = ClusterView(
                    me: node.name, local: LocalDatabase(state: .primary, lsn: nil), etcdReachable: false,
                    leader: nil, members: [], primaryProgress: nil, lease: lease)
                for case .fence(_, let reason) in decide(view, policy: policy, now: clock.hostMonotonic).actions {
                    log.critical(
                        "agent missed its lease deadline: fencing the database",
                        metadata: [
                            "node": "\(node.name)", "agent_alive": "\(agentAlive)", "reason": "\(reason)",
                            "same_boot": "\(published?.bootID == boot)", "attempt": "\(attempts + 1)",
                        ])
                    _ = FileManager.default.createFile(atPath: "\(stateDir)/\(node.name).fenced", contents: Data("watchdog: \(reason)".utf8))
                    // What is left of the lease (its margin at first): the fence escalates to
                    // SIGKILL within it. Tried again until proven, however long that takes.
                    let left = max(.milliseconds(100), lease.lastConfirmedRenewalSentAt + lease.ttl - clock.hostMonotonic)
                    do {
                        if let problem = try await database.fence(within: left) {
                            log.critical(
                                "fenced, but standby.signal could not be written: a restart would bring the database up writable",
                                metadata: ["error": "\(problem)"])
                        }
                        fencedFor = lease
                        attempts = 0
                    } catch {
                        attempts += 1
                        log.critical("watchdog could not fence: trying again", metadata: ["error": "\(error)", "attempt": "\(attempts)"])
                        try? await clock.sleep(for: .milliseconds(100))
                    }
                }
            }
            if !agentAlive {
                // Its agent is gone: done once nothing is left to guard, or once a restarted
                // agent (with a watchdog of its own) has taken the lease over.
                if lease == nil || fencedFor == lease { return }
                if let owner = published?.agentPID, owner != agentPID, isAlive(owner) {
                    log.info(
                        "a restarted agent renews the lease: this watchdog's agent is gone, so it stops",
                        metadata: ["node": "\(node.name)", "agent_pid": "\(owner)"])
                    return
                }
            }
            // Nothing can fence before the published deadline (a renewal only moves it later,
            // a new term starts later still): sleep until then, but read the file again at
            // least every 250 ms for a lease a new leader or a restarted agent published.
            var wait = Duration.milliseconds(250)
            if let lease, fencedFor != lease {
                wait = min(wait, max(.milliseconds(5), SafetyChecks.leaseDeadline(lease, margin: policy.fencingMargin) - clock.hostMonotonic))
            }
            try? await clock.sleep(for: wait)
        }
    }
}

/// The lease as the agent publishes it for its watchdog, one line:
/// `TERM SENT_NS TTL_NS BOOT_ID AGENT_PID` — the term, when the last confirmed renewal was
/// sent (CLOCK_MONOTONIC nanoseconds), the TTL, the boot the instant belongs to, and the
/// agent that published it.
struct PublishedLease: Equatable {
    var lease: LeaseBookkeeping
    var bootID: String
    var agentPID: Int32

    init(lease: LeaseBookkeeping, bootID: String, agentPID: Int32) {
        self.lease = lease
        self.bootID = bootID
        self.agentPID = agentPID
    }

    /// Nil for an empty file (no lease to guard). A line this version cannot read is taken
    /// as a lease of an unknown boot, so that it fails safe (see `effective`).
    init?(text: String) {
        let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !fields.isEmpty else { return nil }
        let numbers = fields.prefix(3).compactMap { Int64($0) }
        let term = numbers.first ?? 0
        let ttl = numbers.count == 3 ? numbers[2] : 0
        let sent = numbers.count == 3 ? numbers[1] : 0
        lease = LeaseBookkeeping(term: term, ttl: .nanoseconds(ttl), lastConfirmedRenewalSentAt: AgentInstant(.nanoseconds(sent)))
        bootID = fields.count == 5 && numbers.count == 3 ? fields[3] : ""
        agentPID = fields.count == 5 ? Int32(fields[4]) ?? 0 : 0
    }

    var text: String {
        "\(lease.term) \(lease.lastConfirmedRenewalSentAt.sinceStart.nanoseconds) \(lease.ttl.nanoseconds) \(bootID) \(agentPID)"
    }

    /// The lease to enforce during `bootID`: as published within the same boot; from
    /// another boot (or unreadable) its instant means nothing, so its deadline is taken as
    /// long past — the watchdog fences at once, never lets a stale lease keep a database writable.
    func effective(bootID current: String) -> LeaseBookkeeping {
        guard !bootID.isEmpty, bootID == current else {
            return LeaseBookkeeping(term: lease.term, ttl: .zero, lastConfirmedRenewalSentAt: AgentInstant(.seconds(Int64.min / 2_000_000_000)))
        }
        return lease
    }
}
