/// What a campaign did and found, written as JSON (and rendered by `ChaosReportPage`); the
/// seed, or the plan for a shrunk schedule, replays it.
public struct ChaosReport: Sendable, Codable {
    public struct Event: Sendable, Codable, Equatable {
        /// Seconds from the campaign's start.
        public var at: Double
        public var text: String

        public init(at: Double, text: String) {
            self.at = at
            self.text = text
        }
    }

    public var seed: UInt64
    public var mode: String
    public var duration: Double
    public var etcdMembers: Int
    /// `failover.failsafe` was on (nil in reports written before it existed).
    public var failsafe: Bool?
    /// Regions as hosts: the inter-region round trip it ran with (`--hosts --latency`);
    /// nil: the loopback lab.
    public var hostsLatency: String?
    public var plan: ChaosPlan
    public var events: [Event]
    /// When the last fault was healed, and when the cluster settled (nil: it never did).
    public var lastHeal: Double
    public var settledAt: Double?
    /// Every write a client saw acknowledged.
    public var acks: [ChaosChecker.Ack]
    public var properties: [ChaosChecker.Property]

    public init(
        seed: UInt64, mode: String, duration: Double, etcdMembers: Int, plan: ChaosPlan, events: [Event], lastHeal: Double,
        settledAt: Double?, acks: [ChaosChecker.Ack], properties: [ChaosChecker.Property]
    ) {
        self.seed = seed
        self.mode = mode
        self.duration = duration
        self.etcdMembers = etcdMembers
        self.plan = plan
        self.events = events
        self.lastHeal = lastHeal
        self.settledAt = settledAt
        self.acks = acks
        self.properties = properties
        self.failsafe = nil
    }

    public var passed: Bool { properties.allSatisfy(\.passed) }
    public var acknowledged: Int { acks.count }
    public var timelines: [Int] { Set(acks.map(\.timeline)).sorted() }

    /// The command that runs this schedule again.
    public func replayCommand(planFile: String? = nil) -> String {
        var command = "drctl-lab chaos --seed \(seed) --duration \(Int(duration)) --mode \(mode)"
        if let hostsLatency {
            command += " --hosts --latency \(hostsLatency)"
        } else if etcdMembers != 1 {
            command += " --etcd-members \(etcdMembers)"
        }
        if failsafe == true { command += " --failsafe" }
        if let planFile { command += " --plan \(planFile)" }
        return command
    }

    enum CodingKeys: String, CodingKey {
        case seed, mode, duration, plan, events, acks, properties, failsafe
        case hostsLatency = "hosts_latency"
        case etcdMembers = "etcd_members", lastHeal = "last_heal", settledAt = "settled_at"
    }
}
