import DRAgent
import DRCore
import Foundation

/// The PostgreSQL servers of a test cluster as a small model: a primary writes WAL, standbys
/// stream it from their upstream while both run and the network between them holds, a
/// promotion takes as long as it is told to, a fence stops the server and leaves
/// `standby.signal`, and a start honours that file. Each agent drives its own server through
/// `database(_:)`; the test breaks them (crash, freeze, reboot, cut) between steps.
///
/// It is the safety invariant's witness: `writable` names every server that would accept a
/// write right now, whoever thinks it leads.
public final class ScriptedServers: @unchecked Sendable {
    public struct Server: Sendable {
        public var name: String
        public var running = true
        public var inRecovery: Bool
        /// `standby.signal` is in the data directory: a start comes up read-only.
        public var standbySignal: Bool
        public var timeline = 1
        /// The primary's written WAL, a standby's received (= replayed) WAL.
        public var lsn: UInt64 = 0x300_0000
        public var upstream: String?
        public var synchronousStandbys: [String] = []
        /// Accepts connections but answers no query (a stalled server, a full disk).
        public var frozen = false
        /// Whether its clients write (a primary's position moves every step); false is an
        /// idle database.
        public var writing = true
        /// How long the next promotion takes (the WAL it still has to replay).
        public var promotionTakes: Duration = .milliseconds(200)
        /// A promotion was signalled: the server turns writable then, unless it stops first.
        public var promotesAt: AgentInstant?
        /// Starting it fails (the crash recurs, the disk is gone).
        public var startFails = false
        /// Fencing fails (pg_ctl cannot stop it).
        public var fenceFails = false
        /// How long a fence takes to prove the server gone (a stopped postmaster that only
        /// SIGKILL ends, a shutdown checkpoint); it keeps accepting writes meanwhile.
        public var fenceTakes: Duration = .zero
        /// Its WAL went past the point where a newer timeline forked off: as a standby it
        /// never streams, until a rejoin rewinds it.
        public var pastFork = false
        /// A rejoin stops it, then fails (pg_rewind cannot reach the leader).
        public var rewindFails = false
        /// `data_dir` unknown: whether the postmaster runs cannot be known.
        public var postmasterUnknown = false
        /// The data directory is empty (a lost disk): the server is down and cannot start.
        public var dataLost = false
        /// Building it as a standby fails (no source reachable).
        public var cloneFails = false
        /// Its physical replication slots (kept by the leader's `keepSlots`).
        public var slots: [String] = []
        /// Promoted by an operator without etcd (`drctl promote --force`): carries the marker.
        public var forcedPromotion = false
        /// A changed setting waits for a restart (cleared by any restart).
        public var pendingRestart = false
        /// A switchover's clean stop fails and leaves it running (a shutdown checkpoint that
        /// outlasts the limit).
        public var cleanStopFails = false
        /// How long a restart in place takes on the manual clock (the server is down meanwhile:
        /// a shutdown checkpoint, a slow start).
        public var restartTakes: Duration = .zero
    }

    /// The tests' manual clock, or the host's for a simulation in real time (`drctl-lab fleet`).
    let clock: any AgentClock
    /// The conninfo each node's standbys use, as the config names it.
    let addresses: [String: (host: String, port: Int)]
    private let lock = NSLock()
    private var servers: [String: Server]
    private var isolated: Set<String> = []
    private var calls: [(at: AgentInstant, node: String, call: String)] = []

    public init(clock: any AgentClock, config: ClusterConfig, primary: String) {
        self.clock = clock
        var servers: [String: Server] = [:]
        var addresses: [String: (String, Int)] = [:]
        for (_, node) in config.nodes {
            let isPrimary = node.name == primary
            servers[node.name] = Server(name: node.name, inRecovery: !isPrimary, standbySignal: !isPrimary, upstream: isPrimary ? nil : primary)
            // A healthy cluster: the primary already keeps a slot for each standby.
            if isPrimary { servers[node.name]?.slots = FailoverPolicy(config).slotNodes.filter { $0 != primary }.map(ReplicationSlots.name(of:)) }
            addresses[node.name] = (node.connection.host, node.connection.port)
        }
        self.servers = servers
        self.addresses = addresses
    }

    public subscript(_ name: String) -> Server {
        get { lock.withLock { servers[name]! } }
        set { lock.withLock { servers[name] = newValue } }
    }

    /// Changes one server atomically.
    public func change(_ name: String, _ body: (inout Server) -> Void) { lock.withLock { body(&servers[name]!) } }

    /// The host rebooted, or init restarted the server: it starts, read-only if
    /// `standby.signal` is there.
    public func boot(_ name: String) {
        change(name) { me in
            me.running = !me.dataLost
            me.frozen = false
            me.promotesAt = nil
            me.inRecovery = me.standbySignal
        }
    }

    /// Every server that accepts writes now, or will the moment it wakes (a frozen server
    /// still counts: a stall ends, and its clients are still connected).
    public var writable: [String] { lock.withLock { servers.values.filter { $0.running && !$0.inRecovery }.map(\.name).sorted() } }

    /// Replication to and from these nodes stops (their region is cut off).
    public func isolate(_ nodes: Set<String>) { lock.withLock { isolated = nodes } }

    /// What the agents did to their servers, in order.
    public func callLog(_ node: String? = nil) -> [String] { lock.withLock { calls.filter { node == nil || $0.node == node }.map(\.call) } }

    /// One step of the world: primaries write, standbys receive what their upstream wrote.
    public func step() {
        for name in read({ $0.values.filter { $0.promotesAt.map { clock.now >= $0 } ?? false }.map(\.name) }) { finishPromotion(name) }
        lock.withLock {
            for name in servers.keys where servers[name]!.running && !servers[name]!.inRecovery && !servers[name]!.frozen && servers[name]!.writing {
                servers[name]!.lsn += 0x100
            }
            for name in servers.keys {
                guard let standby = servers[name], standby.running, standby.inRecovery, !standby.pastFork, let source = standby.upstream,
                    let upstream = servers[source], upstream.running, !upstream.frozen, streams(from: source, to: name)
                else { continue }
                servers[name]!.lsn = max(standby.lsn, upstream.lsn)
                servers[name]!.timeline = upstream.timeline
            }
        }
    }

    /// A signalled promotion ends: the server is writable on a new timeline, if it still
    /// runs and has not finished already.
    func finishPromotion(_ name: String) {
        change(name) { me in
            guard me.promotesAt != nil else { return }
            me.promotesAt = nil
            guard me.running, me.inRecovery else { return }
            me.inRecovery = false
            me.standbySignal = false
            me.upstream = nil
            me.timeline += 1
        }
    }

    /// The client each agent drives its own server with.
    public func database(_ node: String) -> ScriptedDatabase { ScriptedDatabase(servers: self, node: node) }

    // Called with the lock held.
    func streams(from source: String, to standby: String) -> Bool {
        isolated.contains(source) == isolated.contains(standby)
    }

    func act<T>(_ node: String, _ call: String, _ body: (inout Server) throws -> T) rethrows -> T {
        try lock.withLock {
            calls.append((clock.now, node, call))
            return try body(&servers[node]!)
        }
    }

    func read<T>(_ body: ([String: Server]) -> T) -> T { lock.withLock { body(servers) } }
}
