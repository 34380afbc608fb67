/// Judges a cluster from one round of probes: a pure function from configuration and
/// observations to the `StatusReport` that `drctl status` prints.
public enum ClusterStatus {
    /// What etcd said when `status` asked, or that it did not answer.
    public enum Coordination: Sendable, Equatable {
        case unreachable(String)
        case known(leader: LeaderRecord?, members: [MemberRecord], paused: Bool, skipped: [SkippedRecord] = [], progress: PrimaryProgress? = nil)
    }

    /// - Parameter nowMillis: this host's wall clock, to warn about a leader whose clock
    ///   differs from it (see `ClockOffset.problems`).
    /// - Parameter failsafe: what the agents' APIs said of failsafe (asked when etcd is unreachable).
    public static func evaluate(
        config: ClusterConfig, observations: [NodeObservation], coordination: Coordination? = nil,
        nowMillis: Int64? = nil, failsafe: [FailsafeStatus] = []
    ) -> StatusReport {
        let byName = Dictionary(observations.map { ($0.node, $0.result) }, uniquingKeysWith: { first, _ in first })
        let leading = failsafe.first { $0.role == .leader }
        let primaries = config.nodes.compactMap { entry -> (String, PrimaryState)? in
            if case .primary(let state)? = byName[entry.node.name] { return (entry.node.name, state) }
            return nil
        }
        let primary = primaries.count == 1 ? primaries[0].1 : nil
        var problems: [String] = []

        var rows = config.nodes.map { region, node in
            row(for: node, in: region, result: byName[node.name], primary: primary, rpo: config.objectives.rpo, problems: &problems)
        }
        var leader: LeaderRecord?, paused = false, hold: String?
        switch coordination {
        case .unreachable(let reason):
            if let leading {
                problems.append("etcd is unreachable (\(reason)): " + describe(leading, nowMillis: nowMillis) + "; no automatic failover can happen")
            } else {
                problems.append("etcd is unreachable (\(reason)): no automatic failover can happen")
            }
        case let .known(current, members, isPaused, skipped, progress):
            leader = current
            problems += skipped.map(\.description)
            if current == nil, let leading {
                problems.append("\(leading.leader)'s agent cannot reach etcd: " + describe(leading, nowMillis: nowMillis))
            }
            if let nowMillis {
                problems += ClockOffset.problems(
                    leader: current, progress: progress, members: members, nowMillis: nowMillis, config: config,
                    consequence: "scheduled switchovers (--at) and the times in reports read wall clocks; failover decisions do not")
            }
            paused = isPaused
            hold = members.compactMap(\.hold).first
            let hashes = members.compactMap { member in member.configHash.map { (member.name, $0) } }
            if let drift = configurationDrift(Dictionary(hashes, uniquingKeysWith: { first, _ in first })) { problems.append(drift) }
            for member in members {
                if let building = member.building { problems.append("\(member.name) is being built as a standby \(building)") }
                guard let failure = member.rejoinFailure else { continue }
                problems.append("\(member.name) could not be brought back as a standby: \(failure); `drctl rejoin \(member.name)` offers a rebuild")
            }
            // A fenced node may be down or running read-only in recovery: fenced either way
            // until it is rejoined.
            for index in rows.indices
            where [.down, .standby].contains(rows[index].role)
                && members.contains(where: { $0.name == rows[index].name && $0.role == .fenced })
            {
                rows[index].role = .fenced
            }
            if let current, primaries.count == 1, primaries[0].0 != current.node {
                problems.append("\(primaries[0].0) accepts writes but \(current.node) holds the leader key (term \(current.term))")
            }
        case nil:
            break
        }

        let verdict: ClusterVerdict
        switch primaries.count {
        case 0 where hold != nil:
            verdict = .manualIntervention
            problems.insert(hold ?? "", at: 0)
        case 0:
            verdict = .noPrimary
            problems.insert("no reachable node accepts writes", at: 0)
        case 1:
            verdict = problems.isEmpty ? .healthy : .degraded
        default:
            verdict = .splitBrain
            problems.insert("\(primaries.count) nodes accept writes: \(primaries.map(\.0).joined(separator: ", ")); fence all but one now", at: 0)
        }
        var report = StatusReport(
            cluster: config.cluster, verdict: verdict, problems: problems, leader: leader?.node,
            term: leader.map { Int($0.term) }, paused: paused, nodes: rows)
        report.failsafe = leading
        return report
    }

    /// Members whose agents run different configuration files, from the hash each publishes
    /// (by member name); nil when they all run the same one (an older agent publishes none).
    public static func configurationDrift(_ hashes: [String: String]) -> String? {
        let byHash = Dictionary(grouping: hashes.filter { !$0.value.isEmpty }, by: \.value)
        guard byHash.count > 1 else { return nil }
        let groups = byHash.sorted { $0.key < $1.key }.map { hash, members in "\(hash) on \(members.map(\.key).sorted().joined(separator: ", "))" }
        return "the agents run different configuration files (\(groups.joined(separator: "; "))): compare them, then `drctl reload` on each host"
    }

    /// "running in failsafe for 12s: pg1 stays writable while pg2 confirms it"
    private static func describe(_ leading: FailsafeStatus, nowMillis: Int64?) -> String {
        let since = nowMillis.map { " for \(DurationText.format(.milliseconds(max(0, $0 - leading.sinceMillis))))" } ?? ""
        let members = leading.confirmedBy.isEmpty ? "no other member" : leading.confirmedBy.joined(separator: ", ")
        return "running in failsafe\(since): \(leading.leader) stays writable while \(members) confirm\(leading.confirmedBy.count == 1 ? "s" : "") it"
    }

    private static func row(
        for node: NodeConfig, in region: RegionConfig, result: ProbeResult?, primary: PrimaryState?,
        rpo: Duration, problems: inout [String]
    ) -> StatusReport.NodeStatus {
        var row = StatusReport.NodeStatus(
            name: node.name, region: region.name, role: .unknown, reachable: false,
            host: node.connection.host, port: node.connection.port)
        switch result {
        case nil:
            row.error = "not probed"
            problems.append("\(node.name) was not probed")
        case .unreachable(let reason):
            row.role = .down
            row.error = reason
            problems.append("\(node.name) is unreachable: \(reason)")
        case .failed(let reason):
            row.reachable = true
            row.error = reason
            problems.append("\(node.name) answered but its probe failed: \(reason)")
        case .primary(let state):
            row.role = .primary
            row.reachable = true
            row.timeline = state.timeline
            row.lsn = state.currentLSN
            row.serverVersion = state.serverVersion
            row.lagBytes = 0
            row.lagSeconds = 0
        case .standby(let state):
            row.role = .standby
            row.reachable = true
            row.timeline = state.timeline
            row.lsn = state.replayLSN
            row.receiveLSN = state.receiveLSN
            row.replayLSN = state.replayLSN
            row.serverVersion = state.serverVersion
            row.replication = state.walReceiverStatus
            describeStandby(node: node, state: state, primary: primary, rpo: rpo, row: &row, problems: &problems)
        }
        row.pendingRestart = result?.activity?.pendingRestart == true
        return row
    }

    private static func describeStandby(
        node: NodeConfig, state: StandbyState, primary: PrimaryState?, rpo: Duration,
        row: inout StatusReport.NodeStatus, problems: inout [String]
    ) {
        let connection = primary?.replication.first { $0.applicationName == node.name }
        row.syncState = connection?.syncState
        if state.walReceiverStatus != "streaming" {
            problems.append("\(node.name) is not streaming (WAL receiver: \(state.walReceiverStatus ?? "none"))")
        }
        if state.replayPaused {
            problems.append("\(node.name) has WAL replay paused")
        }
        guard let primary else { return }
        if let timeline = state.timeline, timeline != primary.timeline {
            problems.append("\(node.name) is on timeline \(timeline), the primary on \(primary.timeline)")
        }
        guard let replayed = state.replayLSN else { return }
        let bytes = primary.currentLSN.bytesAhead(of: replayed)
        row.lagBytes = bytes
        row.lagSeconds = lagSeconds(bytes: bytes, connection: connection, state: state)
        if let seconds = row.lagSeconds, seconds > rpo.seconds {
            problems.append("\(node.name) is \(formatSeconds(seconds)) behind, beyond the RPO \(DurationText.format(rpo))")
        }
    }

    /// Replication lag in seconds. Caught up is zero. Otherwise the primary's `replay_lag`
    /// (measured by PostgreSQL from WAL send to replay), and when that is NULL — as it is
    /// once a standby goes idle — the standby's own time since its last replayed commit.
    static func lagSeconds(bytes: UInt64, connection: ReplicationConnection?, state: StandbyState) -> Double? {
        if bytes == 0 { return 0 }
        return connection?.replayLag ?? state.secondsSinceLastReplay
    }

    private static func formatSeconds(_ seconds: Double) -> String {
        DurationText.format(.milliseconds(Int64((seconds * 1000).rounded())))
    }
}
