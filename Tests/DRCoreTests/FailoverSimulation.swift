import DRCore

/// A pure, step-by-step model of two regions around `decide`: an etcd leader key with a
/// lease, a primary `a` writing WAL, a standby `b` streaming it, and one agent per node
/// ticking on the simulated clock. Faults are injected at chosen times; the model checks
/// at every step that at most one database accepts writes.
struct FailoverSimulation {
    enum Fault { case wholeNodeLost, databaseCrash, regionPartitioned, bothNodesLost, replicationBroken, flappingChecks }

    struct Node {
        var name: String
        var db: LocalDatabase.State
        var lsn: UInt64
        var agentAlive = true
        var partitioned = false
        var streaming = true
        var stoppedReceivingAt: Duration?
        var failedChecks = 0
        var flapping = false
        var lease: LeaseBookkeeping?
        var leaderMissingSince: AgentInstant?
        var lastTermSeen: Int64?
        var lastFailoverSeen: AgentInstant?
        var tickOffset: Duration
        var dns: [String: DNSRecordState] = [:]
    }

    struct Leader { var node: String; var term: Int64; var lease: Int64; var expiresAt: Duration }

    let policy: FailoverPolicy
    let ttl: Duration
    let interval: Duration = .seconds(1)
    let step: Duration = .milliseconds(100)
    var now: Duration = .zero
    var nodes: [Node]
    var leader: Leader?
    var revision: Int64 = 1
    var lastPrimary: PrimaryProgress?
    var holds: [String] = []
    var promotedAt: Duration?
    var fencedAt: Duration?
    var maxWritable = 0
    /// The managed record as the DNS provider holds it, and every write: when, by whom, under which term.
    var dnsRecord: String? = "a"
    var dnsWrites: [(at: Duration, by: String, to: String, term: Int64)] = []

    init(policy: FailoverPolicy, ttl: Duration = .seconds(5)) {
        self.policy = policy
        self.ttl = ttl
        nodes = [Node(name: "a", db: .primary, lsn: 1000, tickOffset: .milliseconds(300)),
                 Node(name: "b", db: .standby, lsn: 1000, tickOffset: .milliseconds(700))]
    }

    mutating func run(until end: Duration, fault: Fault? = nil, at faultTime: Duration = .seconds(20)) {
        while now < end {
            if let fault, now == faultTime { inject(fault) }
            advanceWorld()
            for index in nodes.indices where nodes[index].agentAlive && ticks(nodes[index]) {
                tick(index)
            }
            maxWritable = max(maxWritable, nodes.filter { $0.db == .primary }.count)
            now += step
        }
    }

    private mutating func inject(_ fault: Fault) {
        switch fault {
        case .wholeNodeLost: nodes[0].agentAlive = false; nodes[0].db = .down
        case .databaseCrash: nodes[0].db = .down
        case .regionPartitioned: nodes[0].partitioned = true
        case .bothNodesLost: for i in nodes.indices { nodes[i].agentAlive = false; nodes[i].db = .down }
        case .replicationBroken: nodes[1].streaming = false; nodes[1].stoppedReceivingAt = now
        case .flappingChecks: nodes[0].flapping = true
        }
    }

    /// Whether this node's agent ticks at `now` (every interval, from its own offset).
    private func ticks(_ node: Node) -> Bool {
        let sinceOffset = (now - node.tickOffset).milliseconds
        return sinceOffset >= 0 && sinceOffset % interval.milliseconds == 0
    }

    /// WAL grows on a writable primary; the standby receives it while connected.
    private mutating func advanceWorld() {
        if nodes[0].db == .primary { nodes[0].lsn += 100 }
        if nodes[1].db == .standby, nodes[1].streaming, !nodes[0].partitioned, nodes[0].db == .primary {
            nodes[1].lsn = nodes[0].lsn
        }
        if let current = leader, now >= current.expiresAt { leader = nil }
    }

    private func healthy(_ node: Node) -> Bool {
        if node.flapping { return (now.milliseconds / interval.milliseconds) % 3 == 2 }  // fail, fail, pass: never 3 in a row
        return node.db == .primary || node.db == .standby
    }

    private mutating func tick(_ i: Int) {
        nodes[i].failedChecks = healthy(nodes[i]) ? 0 : nodes[i].failedChecks + 1
        let reachable = !nodes[i].partitioned
        if reachable {
            if leader == nil, nodes[i].leaderMissingSince == nil { nodes[i].leaderMissingSince = AgentInstant(now) }
            if leader != nil { nodes[i].leaderMissingSince = nil }
            if let term = leader?.term, let seen = nodes[i].lastTermSeen, term != seen { nodes[i].lastFailoverSeen = AgentInstant(now) }
            if let term = leader?.term { nodes[i].lastTermSeen = term }
            publish(i)
        }
        for _ in 0..<3 {  // decide again at once after winning the key, as the agent does
            let decision = decide(view(for: i, reachable: reachable), policy: policy, now: AgentInstant(now))
            guard execute(decision.actions, for: i, reachable: reachable) else { break }
        }
    }

    private mutating func publish(_ i: Int) {
        guard nodes[i].db == .primary, leader?.node == nodes[i].name else { return }
        let lag = nodes[1].stoppedReceivingAt.map { (now - $0).seconds } ?? 0
        lastPrimary = PrimaryProgress(node: nodes[i].name, timeline: 1, lsn: LSN(nodes[i].lsn), standbyLagSeconds: ["b": lag])
    }

    private func view(for i: Int, reachable: Bool) -> ClusterView {
        let node = nodes[i]
        let members = nodes.filter { $0.agentAlive && !$0.partitioned }.map {
            MemberRecord(name: $0.name, region: $0.name, role: $0.db == .primary ? .primary : $0.db == .standby ? .standby : .down,
                         timeline: 1, lsn: LSN($0.lsn), replayLSN: LSN($0.lsn), lagBytes: nil, healthy: healthy($0),
                         failedChecks: $0.failedChecks, publishedAtMillis: 0)
        }
        return ClusterView(
            me: node.name,
            local: LocalDatabase(state: node.db, failedChecks: node.failedChecks, timeline: 1, lsn: LSN(node.lsn),
                                 streamingFrom: node.db == .standby && node.streaming ? leader?.node : nil),
            etcdReachable: reachable, leader: leader.map { LeaderRecord(node: $0.node, term: $0.term, lease: $0.lease) },
            members: members, lastPrimary: lastPrimary, lease: node.lease,
            lastFailoverSeen: node.lastFailoverSeen, leaderMissingSince: node.leaderMissingSince, dns: node.dns)
    }

    /// Carries out actions like the agent's executor, refusing stale terms. Returns true
    /// when leadership was just won (the agent then decides again at once).
    private mutating func execute(_ actions: [Action], for i: Int, reachable: Bool) -> Bool {
        let me = nodes[i].name
        for action in actions {
            let current = leader.map { LeaderRecord(node: $0.node, term: $0.term, lease: $0.lease) }
            guard SafetyChecks.permits(action, leader: reachable ? current : nil, me: me) else { continue }
            switch action {
            case .renewLease(let term):
                guard reachable else { continue }
                leader?.expiresAt = now + ttl
                nodes[i].lease = LeaseBookkeeping(term: term, ttl: ttl, lastConfirmedRenewalSentAt: AgentInstant(now))
            case .acquireLeadership:
                guard reachable, leader == nil else { continue }
                revision += 1
                leader = Leader(node: me, term: revision, lease: revision, expiresAt: now + ttl)
                nodes[i].lease = LeaseBookkeeping(term: revision, ttl: ttl, lastConfirmedRenewalSentAt: AgentInstant(now))
                nodes[i].lastTermSeen = revision
                return true
            case .releaseLeadership:
                leader = nil
                nodes[i].lease = nil
            case .promote:
                nodes[i].db = .primary
                promotedAt = promotedAt ?? now
            case .fence:
                if nodes[i].db == .primary || nodes[i].db == .down { nodes[i].db = .fenced }
                nodes[i].lease = nil
                fencedAt = fencedAt ?? now
            case .holdForOperator(let reason):
                holds.append(reason)
            case .switchDNS(let record, let target, let term):
                // The shell re-reads the leader in etcd right before writing.
                guard reachable, leader?.node == me, leader?.term == term else { continue }
                dnsRecord = target
                dnsWrites.append((now, me, target, term))
                nodes[i].dns[record] = DNSRecordState(node: target, term: term, phase: .synced(at: AgentInstant(now)))
            case .follow, .rejoin, .alert, .setSynchronousStandbys, .recordSynchronous, .restartDatabase, .handOver:
                break
            }
        }
        return false
    }

    /// The bootstrapped cluster: `a` holds the key, both agents have ticked.
    static func started(policy: FailoverPolicy) -> FailoverSimulation {
        var simulation = FailoverSimulation(policy: policy)
        simulation.run(until: .seconds(5))
        return simulation
    }
}
