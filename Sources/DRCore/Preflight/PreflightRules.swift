/// What preflight observed, from wherever it runs (an operator's host, or an agent beside
/// its node — then "from here" is "from this node"): nothing is changed to get it.
public struct PreflightObservations: Sendable, Equatable {
    public enum NodeRead: Sendable, Equatable {
        case read(PreflightNodeSettings)
        case unreachable(String)
    }

    public enum EtcdRead: Sendable, Equatable {
        /// A linearizable read answered, in this long.
        case answered(Duration)
        case failed(String)
    }

    public var nodes: [String: NodeRead]
    /// Per node: why a replication connection to it from here was refused (nil: accepted).
    public var replicationRefused: [String: String?]
    public var etcd: EtcdRead
    /// Per managed record: why reading it through its provider failed (nil: it was read).
    public var dnsReadFailed: [String: String?]
    /// Per node on this host: what its host offers the agent (nil entry: not this host's).
    public var local: [String: LocalHost] = [:]
    /// The newest archived segment fetched back from the repository from here (nil: not tried).
    public var archiveFetch: ArchiveFetch? = nil
    /// The holes in the WAL archive a restore from a kept base backup would stop at (nil:
    /// not looked at: no repository, or it could not be listed).
    public var archiveGaps: [ArchiveGaps.Gap]? = nil
    /// Per DNS provider: what its own credential check reported (absent: fine, or none).
    public var dnsCredentialProblems: [String: String] = [:]
    /// Why `failover.failsafe_secret` cannot be read here (nil: read, or none configured).
    public var failsafeSecretProblem: String? = nil
    /// The hash of the configuration file each member's agent runs, from etcd.
    public var configHashes: [String: String] = [:]
    /// The names of etcd's members, from its member list (nil: not read — no region names
    /// its etcd member, or etcd did not answer).
    public var etcdMemberNames: [String]? = nil
    /// Per node whose agent answered: its host's clock minus this one's, and the measurement's
    /// uncertainty (half the request's round trip).
    public var clockOffsets: [String: ClockOffset] = [:]

    public struct ClockOffset: Sendable, Equatable {
        public var offset: Duration
        public var uncertainty: Duration

        public init(offset: Duration, uncertainty: Duration) {
            self.offset = offset
            self.uncertainty = uncertainty
        }
    }

    public struct LocalHost: Sendable, Equatable {
        public var pgCtlFound: Bool
        /// Free and total bytes of the file system holding the data directory (nil: unknown).
        public var freeBytes: UInt64?
        public var totalBytes: UInt64?

        public init(pgCtlFound: Bool, freeBytes: UInt64?, totalBytes: UInt64?) {
            self.pgCtlFound = pgCtlFound
            self.freeBytes = freeBytes
            self.totalBytes = totalBytes
        }
    }

    public enum ArchiveFetch: Sendable, Equatable {
        case fetched(segment: String)
        case failed(segment: String, reason: String)
    }

    public init(nodes: [String: NodeRead], replicationRefused: [String: String?], etcd: EtcdRead, dnsReadFailed: [String: String?]) {
        self.nodes = nodes
        self.replicationRefused = replicationRefused
        self.etcd = etcd
        self.dnsReadFailed = dnsReadFailed
    }
}

/// The preflight's judgement: every precondition of a DR operation that the observations
/// show broken, blocking ones first. Pure: the same observations give the same findings.
public enum PreflightRules {
    public static func findings(config: ClusterConfig, observations: PreflightObservations) -> [PreflightFinding] {
        var found: [PreflightFinding] = []
        let names = config.nodes.map(\.node.name)
        for (_, node) in config.nodes {
            switch observations.nodes[node.name] {
            case .unreachable(let reason):
                found.append(
                    .init(
                        check: "connect", node: node.name, severity: .blocking, problem: "cannot connect from here: \(reason)",
                        why: "a node drctl cannot reach can be neither promoted nor fenced by an operator from here",
                        fix: "check the node's conninfo, its pg_hba.conf and the network between this host and \(node.connection.host)"))
            case .read(let settings):
                found += self.node(node, settings, peers: names.count - 1, config: config)
            case nil:
                break
            }
            if case .some(.some(let refusal)) = observations.replicationRefused[node.name] {
                found.append(
                    .init(
                        check: "replication_access", node: node.name, severity: .blocking,
                        problem: "a replication connection from here is refused: \(refusal)",
                        why: "after a failover the other nodes stream from this one (and rejoin, clone and pg_rewind connect to it)",
                        fix: "add a `host replication USER ADDRESS METHOD` line for every other node's address to its pg_hba.conf and reload"))
            }
        }
        found += slots(config: config, observations: observations)
        found += local(config: config, observations: observations)
        switch observations.etcd {
        case .failed(let reason):
            found.append(
                .init(
                    check: "etcd", node: nil, severity: .blocking, problem: "no linearizable read from etcd: \(reason)",
                    why: "without an etcd quorum no standby is promoted and the primary fences at its lease deadline (unless failsafe)",
                    fix: "check `etcdctl endpoint health` on coordination.endpoints and that a majority of members runs"))
        case .answered(let took) where took * 4 > config.coordination.leaseTTL:
            found.append(
                .init(
                    check: "etcd_latency", node: nil, severity: .warning, problem: "a linearizable read took \(DurationText.format(took))",
                    why: "the lease (\(DurationText.format(config.coordination.leaseTTL))) must outlive an etcd election plus a renewal loop",
                    fix: "put an etcd member near each agent, or raise coordination.lease_ttl"))
        case .answered:
            break
        }
        if let names = observations.etcdMemberNames {
            for region in config.regions {
                guard let member = region.etcdMember, !names.contains(member) else { continue }
                found.append(
                    .init(
                        check: "etcd_member", node: nil, severity: .warning,
                        problem: "region \(region.name) names etcd member \(member), which is not in etcd's member list (\(names.sorted().joined(separator: ", ")))",
                        why:
                            "the leader's agent cannot tell when etcd's raft leader sits beside the primary, so losing that region waits for an etcd election on top of the lease",
                        fix: "set regions[].etcd_member to the member's `etcd --name` (`etcdctl member list`), then reload the agents"))
            }
        }
        if let drift = ClusterStatus.configurationDrift(observations.configHashes) {
            found.append(
                .init(
                    check: "config_drift", node: nil, severity: .warning, problem: drift,
                    why: "agents decide with the objectives, tags and timings of their own file: a failover may follow rules nobody reviewed",
                    fix: "make the files equal (one source, e.g. configuration management), then `systemctl reload drctl-agent@REGION` on each host"))
        }
        for (record, failure) in observations.dnsReadFailed.sorted(by: { $0.key < $1.key }) {
            guard let failure else { continue }
            found.append(
                .init(
                    check: "dns", node: nil, severity: .blocking, problem: "\(record) cannot be read through its provider: \(failure)",
                    why: "a failover's DNS switch would fail the same way, and clients would keep the old primary's address",
                    fix: "check the provider's URL, the zone and the credential's permissions (read and edit of the record)"))
        }
        for (provider, problem) in observations.dnsCredentialProblems.sorted(by: { $0.key < $1.key }) {
            found.append(
                .init(
                    check: "dns_credentials", node: nil, severity: .blocking, problem: "provider \(provider): \(problem)",
                    why: "a failover's DNS switch would be refused, and clients would keep the old primary's address",
                    fix: "issue a new credential with edit rights on the zone and point the provider's *_file or *_env at it"))
        }
        found += failsafe(config: config, observations: observations)
        return found.filter { $0.severity == .blocking } + found.filter { $0.severity == .warning }
    }

    private static func failsafe(config: ClusterConfig, observations: PreflightObservations) -> [PreflightFinding] {
        guard config.failover.failsafe else { return [] }
        if let problem = observations.failsafeSecretProblem {
            return [
                .init(
                    check: "failsafe_secret", node: nil, severity: .blocking, problem: problem,
                    why: "an agent that cannot read the secret does not start, and its node is then neither guarded nor confirmed",
                    fix: "make the file (or environment variable) readable by the agent, with the same secret on every host")
            ]
        }
        guard config.failover.failsafeSecret == nil else { return [] }
        return [
            .init(
                check: "failsafe_secret", node: nil, severity: .warning, problem: "failsafe requests between agents are not signed",
                why: "anyone who reaches an agent API can keep a standby promising to take no leader key, holding off a failover",
                fix: "set failover.failsafe_secret_file (or _env) to the same random secret on every host, e.g. `openssl rand -hex 32`")
        ]
    }

    private static func node(_ node: NodeConfig, _ settings: PreflightNodeSettings, peers: Int, config: ClusterConfig) -> [PreflightFinding] {
        var found: [PreflightFinding] = []
        func add(_ check: String, _ severity: PreflightFinding.Severity, _ problem: String, _ why: String, _ fix: String) {
            found.append(.init(check: check, node: node.name, severity: severity, problem: problem, why: why, fix: fix))
        }
        if let configured = node.dataDir, let actual = settings.dataDirectory, configured != actual {
            add(
                "data_dir", .blocking, "data_dir is \(configured) but the server runs from \(actual)",
                "the agent fences, restarts, rewinds and restores the node in data_dir: it would act on the wrong directory",
                "set data_dir: \(actual) for \(node.name)")
        }
        if config.failover.synchronous, !settings.asynchronousCommits.isEmpty {
            add(
                "synchronous_commit", .blocking, "synchronous_commit is local or off for: \(settings.asynchronousCommits.joined(separator: ", "))",
                "with failover.synchronous, no acknowledged commit may be lost; commits made there never wait for the synchronous standby, so a failover can lose them",
                "set synchronous_commit = on (or remote_write/remote_apply) for the server, and RESET it where a database or role sets it: ALTER DATABASE … RESET synchronous_commit")
        }
        if settings.walLevel == "minimal" {
            add("wal_level", .blocking, "wal_level is minimal", "no standby can stream from this node, nor a base backup be taken", "set wal_level = replica and restart")
        }
        if settings.maxWalSenders < peers + 1 {
            add(
                "max_wal_senders", .blocking, "max_wal_senders is \(settings.maxWalSenders)",
                "as primary it must serve \(peers) standby(s) plus a base backup or a rejoin at once", "set max_wal_senders >= \(peers + 1) and restart")
        }
        if settings.maxReplicationSlots < peers {
            add(
                "max_replication_slots", .blocking, "max_replication_slots is \(settings.maxReplicationSlots)",
                "as primary it keeps a slot for each of the \(peers) other node(s), so they never miss WAL", "set max_replication_slots >= \(peers) and restart")
        }
        if !settings.hotStandby {
            add("hot_standby", .warning, "hot_standby is off", "as a standby it answers no query: drctl cannot read its replay position", "set hot_standby = on")
        }
        if !settings.walLogHints, !settings.dataChecksums {
            add(
                "rewind", config.failover.autoRejoin ? .blocking : .warning, "neither wal_log_hints nor data checksums is on",
                "pg_rewind cannot run: after a failover this node can rejoin only by a full re-clone", "set wal_log_hints = on and restart")
        }
        if config.backup != nil {
            if settings.archiveMode == "off" || !settings.archiveCommand.contains("wal-push") {
                add(
                    "archive", .blocking, settings.archiveMode == "off" ? "archive_mode is off" : "archive_command does not run drctl wal-push: \"\(settings.archiveCommand)\"",
                    "WAL never reaches the repository: no point-in-time restore, and backups cannot be restored to a consistent state",
                    "set archive_mode = on and archive_command = 'drctl wal-push %p %f --config FILE' (on every node: any may become primary)")
            } else if settings.archiverFailing {
                add(
                    "archive", .blocking, "the archiver's last attempt failed (pg_stat_archiver)",
                    "WAL is piling up in pg_wal until the disk fills, and the repository misses it",
                    "run the archive_command by hand as the server's user to see why; check the repository is mounted and writable")
            }
            if settings.restoreCommand.isEmpty {
                add(
                    "restore_command", .warning, "restore_command is empty", "a standby that falls behind its slot cannot fetch WAL from the repository",
                    "set restore_command = 'drctl wal-fetch %f %p --config FILE'")
            }
        }
        return found
    }

    /// What the hosts of the nodes checked from their own host offer, and the repository's
    /// archive read back from here.
    private static func local(config: ClusterConfig, observations: PreflightObservations) -> [PreflightFinding] {
        var found: [PreflightFinding] = []
        for (name, host) in observations.local.sorted(by: { $0.key < $1.key }) {
            if !host.pgCtlFound {
                found.append(
                    .init(
                        check: "pg_ctl", node: name, severity: .blocking, problem: "pg_ctl is not found on this host",
                        why: "the agent stops, starts and promotes its database with it (fencing included)",
                        fix: "install the server package (postgresql-15), or put its bin directory in DRCTL_PG_BIN"))
            }
            if let free = host.freeBytes, let total = host.totalBytes, total > 0 {
                let share = Double(free) / Double(total)
                if share < 0.1 || free < 1 << 30 {
                    found.append(
                        .init(
                            check: "disk", node: name, severity: share < 0.02 ? .blocking : .warning,
                            problem: "\(free >> 20) MiB free of \(total >> 20) MiB where the data directory lives",
                            why: "WAL piles up there while archiving fails or a standby stalls, and a rewind or restore needs room",
                            fix: "free or add space on that file system"))
                }
            }
        }
        for (name, clock) in observations.clockOffsets.sorted(by: { $0.key < $1.key }) {
            // Only what the round trip cannot explain counts.
            let magnitude = clock.offset < .zero ? .zero - clock.offset : clock.offset
            let skew: Duration = max(.zero, magnitude - clock.uncertainty)
            guard skew > .milliseconds(250) else { continue }
            found.append(
                .init(
                    check: "clock", node: name, severity: skew > .seconds(1) ? .blocking : .warning,
                    problem: "its agent's clock is \(DurationText.format(magnitude)) \(clock.offset > .zero ? "ahead of" : "behind") this host's",
                    why:
                        "replication lag in seconds compares the primary's commit times with the standby's clock, so skew moves the RPO check that gates a promotion, and failover evidence mixes both clocks",
                    fix: "run chrony or systemd-timesyncd against the same servers on every host"))
        }
        if case .failed(let segment, let reason) = observations.archiveFetch {
            found.append(
                .init(
                    check: "archive_fetch", node: nil, severity: .blocking, problem: "the newest archived segment \(segment) cannot be fetched from here: \(reason)",
                    why: "a standby or a restore in this region could not replay WAL from the repository",
                    fix: "mount the repository here at \(config.backup?.repository ?? "its path"), readable by the server's user"))
        }
        if let gaps = observations.archiveGaps, let first = gaps.first {
            found.append(
                .init(
                    check: "archive_gaps", node: nil, severity: .warning,
                    problem: "the WAL archive has \(gaps.count) hole(s): \(gaps.prefix(3).map(\.description).joined(separator: "; "))",
                    why: "a point-in-time restore or a region activation from a base backup older than \(first.last) stops at \(first.first) and comes up short",
                    fix: "take a base backup now (`drctl backup run --kind base`): it needs no WAL from before it; `drctl backup verify --archive` lists every hole"))
        }
        return found
    }

    /// The primary holds a slot for every other node (drctl names them after the node).
    private static func slots(config: ClusterConfig, observations: PreflightObservations) -> [PreflightFinding] {
        let primaries = observations.nodes.compactMap { name, read -> (String, PreflightNodeSettings)? in
            guard case .read(let settings) = read, !settings.inRecovery else { return nil }
            return (name, settings)
        }
        guard primaries.count == 1, let (primary, settings) = primaries.first else { return [] }
        return config.nodes.map(\.node.name).filter { $0 != primary && !settings.slots.contains(ReplicationSlots.name(of: $0)) }.map { standby in
            PreflightFinding(
                check: "slot", node: primary, severity: .warning, problem: "no replication slot for \(standby)",
                why: "the primary may recycle WAL \(standby) still needs; its agent creates the slot when it follows, so \(standby)'s agent may not run",
                fix: "start \(standby)'s agent, or SELECT pg_create_physical_replication_slot('\(standby.replacing("-", with: "_"))') on \(primary)")
        }
    }
}
