/// One fault of a campaign, as the nemesis injects it into the lab.
public enum ChaosFault: String, Sendable, Codable, CaseIterable {
    /// SIGKILL the node's postmaster and its region's agent (whole-node loss); healed by
    /// starting both again.
    case killNode = "kill-node"
    /// SIGKILL only the postmaster; healed by starting it again (as init would).
    case killPostmaster = "kill-postmaster"
    /// SIGSTOP the postmaster and its backends (a stalled server: I/O hung, a VM paused);
    /// healed by SIGCONT.
    case freezePostgres = "freeze-postgres"
    /// SIGSTOP the region's agent; healed by SIGCONT.
    case freezeAgent = "freeze-agent"
    /// Cut the node's region off from etcd and the other regions; healed by ending it.
    case isolateRegion = "isolate-region"
    /// Cut only the region's agent from etcd (replication flows).
    case cutEtcd = "cut-etcd"
    /// Cut only replication to and from the region's database (its agent reaches etcd).
    case cutReplication = "cut-replication"
    /// One way: etcd's answers to the region's agent are lost, its requests still arrive.
    case loseEtcdAnswers = "lose-etcd-answers"
    /// SIGKILL an etcd member (the node picks which; with one member, all of etcd);
    /// healed by starting it again.
    case killEtcd = "kill-etcd"
    /// SIGKILL whichever etcd member leads now (an election follows); healed by starting it.
    case killEtcdLeader = "kill-etcd-leader"
    /// SIGSTOP the DNS server the agents switch records on (a provider that hangs);
    /// healed by SIGCONT.
    case stallDNS = "stall-dns"
    /// The backup repository full (a tiny tmpfs mounted over it and filled: WAL archiving
    /// and backups fail); healed by unmounting it. The node is not used.
    case fillRepository = "fill-repository"
    /// SIGTERM the region's agent (a service manager's restart); healed by starting it.
    case restartAgent = "restart-agent"
    /// Everything on the node's host stops at once, then init starts PostgreSQL and the agent.
    case reboot
    /// An operator asks for a switchover to the node, racing whatever else is going on.
    case switchover
    /// An operator pauses automatic failover (maintenance); healed by `drctl resume`.
    case pause
    /// An operator asks for a failover to the node (`drctl failover --to`), whatever the
    /// cluster's state: refused while the primary runs, carried out when it is lost.
    case failover
    /// An operator asks for the node to be rejoined (`drctl rejoin`), fenced or not.
    case rejoin
    /// SIGSTOP the postmaster alone: new connections hang, so every health check fails, while
    /// the backends of connections opened earlier (the campaign's direct writers keep theirs)
    /// go on committing. Healed by SIGCONT.
    case freezePostmaster = "freeze-postmaster"

    /// Whether the fault lasts until healed (a reboot or a request is over when injected).
    public var lasts: Bool { ![.reboot, .switchover, .failover, .rejoin].contains(self) }
}

/// A campaign's schedule: faults drawn from a seed, several possibly overlapping, each
/// healed after a random time. The same seed, nodes and settings give the same schedule,
/// so a violating campaign replays from its seed.
public struct ChaosPlan: Sendable, Codable, Equatable {
    public struct Step: Sendable, Codable, Equatable {
        /// Seconds from the campaign's start.
        public var at: Double
        public var fault: ChaosFault
        public var node: String
        /// Seconds after `at` (zero for a fault that does not last).
        public var healAfter: Double

        public init(at: Double, fault: ChaosFault, node: String, healAfter: Double) {
            self.at = at
            self.fault = fault
            self.node = node
            self.healAfter = healAfter
        }
    }

    public var seed: UInt64
    public var steps: [Step]

    public init(seed: UInt64, steps: [Step]) {
        self.seed = seed
        self.steps = steps
    }

    /// - Parameters:
    ///   - duration: seconds during which faults start; every fault is healed by
    ///     `duration + maxHeal`.
    ///   - gap: seconds between two fault starts, drawn uniformly.
    ///   - maxOverlap: at most this many lasting faults at once.
    public static func generate(
        seed: UInt64, duration: Double, nodes: [String], faults: [ChaosFault] = ChaosFault.allCases,
        gap: ClosedRange<Double> = 8...20, heal: ClosedRange<Double> = 3...15, maxOverlap: Int = 2
    ) -> ChaosPlan {
        var random = SeededGenerator(seed: seed)
        var steps: [Step] = []
        var at = Double.random(in: gap, using: &random)
        while at < duration, !faults.isEmpty, !nodes.isEmpty {
            let fault = faults.randomElement(using: &random)!
            let node = nodes.randomElement(using: &random)!
            let healAfter = fault.lasts ? (Double.random(in: heal, using: &random) * 10).rounded() / 10 : 0
            let active = steps.filter { $0.fault.lasts && $0.at + $0.healAfter > at }
            // One fault per node at a time keeps each heal meaningful (a kill during a freeze
            // would be healed twice); the cap keeps some region able to serve.
            if active.count < maxOverlap, !active.contains(where: { $0.node == node }) {
                steps.append(Step(at: (at * 10).rounded() / 10, fault: fault, node: node, healAfter: healAfter))
            }
            at += Double.random(in: gap, using: &random)
        }
        return ChaosPlan(seed: seed, steps: steps)
    }

    /// When the last fault is healed (seconds from the start).
    public var lastHeal: Double { steps.map { $0.at + $0.healAfter }.max() ?? 0 }
}

/// SplitMix64: small, fast, and the same on every platform, so a seed replays exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
