import Foundation

/// One node as its agent saw it at the end of its last loop: what the HTTP API answers
/// load balancers from, and what `GET /status` prints.
public struct NodeSnapshot: Sendable, Equatable, Codable {
    public var node: String
    public var region: String
    /// `primary`, `standby`, `fenced` or `down` (the local database's state).
    public var state: String
    public var leader: String?
    public var term: Int64?
    /// This node holds the leader key and its lease deadline has not passed.
    public var holdsLease: Bool
    public var timeline: Int?
    public var lsn: LSN?
    /// A standby's WAL receiver is streaming.
    public var streaming: Bool
    public var lagBytes: UInt64?
    public var lagSeconds: Double?
    public var noloadbalance: Bool
    public var paused: Bool
    /// Why the agent waits for an operator, if it does.
    public var hold: String?
    /// The rule `decide` applied last.
    public var rule: String
    /// Failsafe under way: this leader runs without etcd, or this member confirms one.
    public var failsafe: FailsafeStatus? = nil
    /// The region agent's latest preflight (`/status` shows it; the loop does not set it).
    public var preflight: PreflightReport? = nil
    /// The agent host's wall clock when `/status` was served, Unix milliseconds (preflight
    /// compares it with its own to find clock skew between hosts).
    public var servedAtMillis: Int64? = nil
    /// When the loop finished, on the agent's clock (not encoded: meaningless outside it).
    public var tickedAt: AgentInstant
    /// A standby the leader recorded as synchronous (it holds every acknowledged commit);
    /// nil in asynchronous mode.
    public var synchronous: Bool? = nil
    /// The node's tags (`nofailover`, `nobackup`, `noloadbalance`), for `?tag_NAME=true`.
    public var tags: [String] = []

    // Patroni's body fields, under Patroni's names, for tools written against its REST API.
    // Two of Patroni's keys keep drctl's meaning (docs/http-api.md): `state` is the role
    // drctl acts on (Patroni: `running`), `tags` a list of names (Patroni: an object).

    /// `primary` or `replica` while the database answers (Patroni 3's names), nil otherwise.
    public var role: String? = nil
    /// `server_version_num`.
    public var serverVersion: Int? = nil
    /// When the postmaster started, ISO 8601.
    public var postmasterStartTime: String? = nil
    /// A changed setting waits for a restart: true or absent, as Patroni answers.
    public var pendingRestart: Bool? = nil
    /// The cluster is paused: true or absent, as Patroni answers (`paused` is always there).
    public var pause: Bool? = nil
    /// When this agent last read etcd, Unix seconds.
    public var dcsLastSeen: Int64? = nil
    /// A standby's WAL receiver status (`streaming`, `catchup`, …).
    public var replicationState: String? = nil
    /// WAL positions as byte offsets.
    public var xlog: WALLocations? = nil

    /// Patroni's `xlog` object: a primary's write position, or a standby's received and
    /// replayed positions (bytes), the last replayed commit's time and whether replay is paused.
    public struct WALLocations: Sendable, Equatable, Codable {
        public var location: UInt64? = nil
        public var receivedLocation: UInt64? = nil
        public var replayedLocation: UInt64? = nil
        public var replayedTimestamp: String? = nil
        public var paused: Bool? = nil

        public init(
            location: UInt64? = nil, receivedLocation: UInt64? = nil, replayedLocation: UInt64? = nil, replayedTimestamp: String? = nil,
            paused: Bool? = nil
        ) {
            self.location = location
            self.receivedLocation = receivedLocation
            self.replayedLocation = replayedLocation
            self.replayedTimestamp = replayedTimestamp
            self.paused = paused
        }

        enum CodingKeys: String, CodingKey {
            case location, paused
            case receivedLocation = "received_location", replayedLocation = "replayed_location", replayedTimestamp = "replayed_timestamp"
        }
    }

    public init(
        node: String, region: String, state: String, leader: String?, term: Int64?, holdsLease: Bool, timeline: Int?, lsn: LSN?,
        streaming: Bool, lagBytes: UInt64?, lagSeconds: Double?, noloadbalance: Bool, paused: Bool, hold: String?, rule: String,
        tickedAt: AgentInstant
    ) {
        self.node = node
        self.region = region
        self.state = state
        self.leader = leader
        self.term = term
        self.holdsLease = holdsLease
        self.timeline = timeline
        self.lsn = lsn
        self.streaming = streaming
        self.lagBytes = lagBytes
        self.lagSeconds = lagSeconds
        self.noloadbalance = noloadbalance
        self.paused = paused
        self.hold = hold
        self.rule = rule
        self.tickedAt = tickedAt
    }

    enum CodingKeys: String, CodingKey {
        case node, region, state, leader, term, timeline, lsn, streaming, paused, hold, rule, noloadbalance, failsafe, preflight, synchronous, tags
        case role, pause, xlog
        case serverVersion = "server_version", postmasterStartTime = "postmaster_start_time", pendingRestart = "pending_restart"
        case dcsLastSeen = "dcs_last_seen", replicationState = "replication_state"
        case servedAtMillis = "served_at_ms"
        case holdsLease = "holds_lease", lagBytes = "lag_bytes", lagSeconds = "lag_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            node: try c.decode(String.self, forKey: .node), region: try c.decode(String.self, forKey: .region),
            state: try c.decode(String.self, forKey: .state), leader: try c.decodeIfPresent(String.self, forKey: .leader),
            term: try c.decodeIfPresent(Int64.self, forKey: .term), holdsLease: try c.decode(Bool.self, forKey: .holdsLease),
            timeline: try c.decodeIfPresent(Int.self, forKey: .timeline), lsn: try c.decodeIfPresent(LSN.self, forKey: .lsn),
            streaming: try c.decode(Bool.self, forKey: .streaming), lagBytes: try c.decodeIfPresent(UInt64.self, forKey: .lagBytes),
            lagSeconds: try c.decodeIfPresent(Double.self, forKey: .lagSeconds), noloadbalance: try c.decode(Bool.self, forKey: .noloadbalance),
            paused: try c.decode(Bool.self, forKey: .paused), hold: try c.decodeIfPresent(String.self, forKey: .hold),
            rule: try c.decode(String.self, forKey: .rule), tickedAt: .seconds(0))
        failsafe = try c.decodeIfPresent(FailsafeStatus.self, forKey: .failsafe)
        preflight = try c.decodeIfPresent(PreflightReport.self, forKey: .preflight)
        servedAtMillis = try c.decodeIfPresent(Int64.self, forKey: .servedAtMillis)
        synchronous = try c.decodeIfPresent(Bool.self, forKey: .synchronous)
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        role = try c.decodeIfPresent(String.self, forKey: .role)
        serverVersion = try c.decodeIfPresent(Int.self, forKey: .serverVersion)
        postmasterStartTime = try c.decodeIfPresent(String.self, forKey: .postmasterStartTime)
        pendingRestart = try c.decodeIfPresent(Bool.self, forKey: .pendingRestart)
        pause = try c.decodeIfPresent(Bool.self, forKey: .pause)
        dcsLastSeen = try c.decodeIfPresent(Int64.self, forKey: .dcsLastSeen)
        replicationState = try c.decodeIfPresent(String.self, forKey: .replicationState)
        xlog = try c.decodeIfPresent(WALLocations.self, forKey: .xlog)
    }
}

extension NodeSnapshot {
    /// Fills Patroni's body fields from the node's last health check: nothing from a check
    /// that got no answer, so a down node shows no stale positions.
    public mutating func describe(_ probe: ProbeResult?, etcdLastContactMillis: Int64?) {
        pause = paused ? true : nil
        dcsLastSeen = etcdLastContactMillis.map { $0 / 1000 }
        role = nil
        serverVersion = probe?.serverVersion
        pendingRestart = probe?.activity?.pendingRestart == true ? true : nil
        postmasterStartTime = probe?.activity?.postmasterStartMillis.map(Self.isoTime)
        replicationState = nil
        xlog = nil
        switch probe {
        case .primary(let state):
            role = "primary"
            xlog = WALLocations(location: state.currentLSN.value)
        case .standby(let state):
            role = "replica"
            replicationState = state.walReceiverStatus
            xlog = WALLocations(
                receivedLocation: state.receiveLSN?.value, replayedLocation: state.replayLSN?.value,
                replayedTimestamp: state.lastReplayedCommitMillis.map(Self.isoTime), paused: state.replayPaused)
        case .unreachable, .failed, nil: break
        }
    }

    static func isoTime(_ millis: Int64) -> String {
        UTCTime.iso8601(Date(timeIntervalSince1970: Double(millis) / 1000), fractional: true)
    }
}
