import ArgumentParser
import DRBackup
import DRCommandLine
import DRCoordination
import DRCore
import DRPostgres
import Foundation

struct RegionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "region", abstract: "Whole-region operations.", subcommands: [RegionActivateCommand.self])
}

/// The cold-region runbook as one command, for when every region with a database is lost:
/// the newest base backup and the WAL archive after it are restored into the region's node,
/// which is started as the primary (marked as an operator's forced promotion, so its agent
/// keeps it through an etcd outage and clears the mark once it leads); its agent then takes
/// the leader key and points DNS. Refused while any node accepts writes or holds the key.
struct RegionActivateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate",
        abstract: "Build a primary in REGION from the newest base backup and the WAL archive when no primary exists; its agent then takes the key and points DNS.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The region to activate (its node is restored; see regions[].nodes).")
    var region: String

    @Option(name: .long, help: "The region's node to restore into (default: its first).")
    var node: String?

    @Option(name: .long, help: "How long to wait for the region's agent to take the leader key and point DNS (e.g. 60s).")
    var wait = "60s"

    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let (file, config) = try options.loadConfig()
        guard let wait = DurationText.parse(wait) else { throw CLIExit.badInput("--wait \(self.wait): expected a duration such as 60s") }
        guard let region = config.regions.first(where: { $0.name == self.region }) else {
            throw CLIExit.badInput("no region named \"\(self.region)\" (regions: \(config.regions.map(\.name).joined(separator: ", ")))")
        }
        guard let target = node.map({ name in region.nodes.first { $0.name == name } }) ?? region.nodes.first else {
            throw CLIExit.badInput(
                node.map { "region \(region.name) has no node named \($0)" }
                    ?? "region \(region.name) has no node: add one to regions[].nodes (name, conninfo, data_dir, address) on the host that will run it")
        }
        guard let dataDir = target.dataDir else { throw CLIExit.badInput("\(target.name) has no data_dir: the restore needs to know where to build the database") }
        try await refuseWhileAPrimaryLives(config)

        let binary = CommandMain.executable
        let configFile = URL(fileURLWithPath: file).standardizedFileURL.path
        let restore = Restore(repository: try BackupCommand.repository(config), drctl: binary, configFile: configFile)
        let backup: BackupManifest
        do { backup = try await restore.choose(.latest, kind: .base, id: nil) } catch { throw CLIExit.failed("\(error)") }
        let plan = """
            ACTIVATE \(region.name): restore base backup \(backup.id) (finished \(backup.finishedAt)) and every archived WAL segment after it
              into \(target.name)'s \(dataDir), start it on \(target.connection.host):\(target.connection.port) as the cluster's primary
              (archiving into \(restore.repository.location)); writes after the last archived segment are lost.
              \(region.name)'s agent then takes the leader key and points the managed DNS records at \(target.name).
            """
        guard try change.proceed(plan, question: "Activate \(region.name) as the primary region?", cluster: config.cluster) else { return }

        let clock = ContinuousClock()
        let started = clock.now
        let millis = Int64(Date().timeIntervalSince1970 * 1000)
        let who = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        let marker = "region activate by \(who) at \(millis)".replacing("'", with: "''")
        let settings = [
            "listen_addresses = '\(target.connection.host)'", "port = \(target.connection.port)", "cluster_name = 'drctl-\(target.name)'",
            "archive_mode = on", "archive_command = '\(binary) wal-push %p %f --config \(configFile)'",
            "primary_conninfo = ''", "primary_slot_name = ''", "synchronous_standby_names = ''",
            "\(PrimaryState.forcedPromotionSetting) = '\(marker)'",
        ]
        print("restoring \(backup.id) into \(dataDir)")
        do {
            _ = try await restore.run(
                backup, target: .latest, to: dataDir, host: target.connection.host, port: target.connection.port, settings: settings,
                showProgress: !options.json)
        } catch { throw CLIExit.failed("restoring into \(target.name) failed: \(error); \(dataDir) may hold a partial restore: empty it before trying again") }
        let writable = (clock.now - started).seconds
        print("\(target.name) is writable after \(String(format: "%.1f", writable))s")
        let checks = await ValidationQueries.run(config.backup?.validation ?? [], conninfo: target.conninfo)
        for check in checks { print("  \(check.passed ? "✔" : "✘") \(check.sql) = \(check.got ?? "error") (expected \(check.expect))") }

        var events: [FailoverEvidence.Event] = [.init(name: "region activate issued", at: 0), .init(name: "writable", at: writable)]
        let (leading, dnsSynced) = await waitForAgent(config, node: target.name, within: wait, since: started)
        if let leading { events.append(.init(name: "leader key taken", at: leading)) }
        if let dnsSynced { events.append(.init(name: "DNS switched", at: dnsSynced)) }
        if leading == nil {
            print("\(region.name)'s agent has not taken the leader key within \(self.wait): start it there (`drctl agent --region \(region.name)`)")
        } else if dnsSynced == nil {
            print("the managed DNS records do not point at \(target.name) yet: `drctl dns status`, runbooks/dns-manual-override.md")
        }
        var record = FailoverEvidence(
            cluster: config.cluster, term: 0, promoted: target.name, previousPrimary: nil, finishedAt: UTCTime.iso8601(Date()),
            events: events, rtoSeconds: dnsSynced ?? leading ?? writable, dataLostBytes: nil, dataLostSeconds: nil,
            reason: "region \(region.name) activated from base backup \(backup.id) and the WAL archive by \(who)")
        record.declaredAtMillis = millis
        try await ForcedHistory.record(record, atMillis: millis, config: config)
        let failed = checks.filter { !$0.passed }
        if !failed.isEmpty { throw CLIExit.failed("\(target.name) failed \(failed.count) of backup.validation's queries: inspect it before sending clients") }
    }

    /// A node that answers as a primary, or a leader key that is held, means a primary may
    /// be alive: activating a second one would be a split brain.
    func refuseWhileAPrimaryLives(_ config: ClusterConfig) async throws {
        for (_, node) in config.nodes {
            if case .primary = await NodeProbe().observe(node: node.name, conninfo: node.conninfo).result {
                throw CLIExit.failed("refused: \(node.name) accepts writes; region activate is for when no primary exists (a switchover moves the primary)")
            }
        }
        do {
            let etcd = try EtcdCoordinator.forConfig(config)
            guard let held = try await etcd.leader() else { return }
            // No node answers as a primary: a lost leader's key lapses within its TTL.
            let ttl = config.coordination.leaseTTL
            print("\(held.node) still holds the leader key (term \(held.term)) but no node accepts writes: waiting up to \(DurationText.format(ttl * 2)) for it to expire")
            let clock = ContinuousClock()
            let deadline = clock.now + ttl * 2
            while clock.now < deadline {
                guard let leader = try await etcd.leader() else { return }
                if leader != held { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            if let leader = try await etcd.leader() {
                throw CLIExit.failed(
                    "refused: \(leader.node) holds the leader key (term \(leader.term)) and its agent keeps it: a primary may be coming back; check `drctl status`")
            }
        } catch let exit as CLIExit {
            throw exit
        } catch {
            // etcd lost with the regions: the probes above are all there is to go on.
            print("etcd is unreachable (\(error)): going by the nodes' own answers, none of which accepts writes")
        }
    }

    /// Seconds from `since` until the node held the leader key and until every managed
    /// record pointed at it; nil for what did not happen within `limit`.
    func waitForAgent(_ config: ClusterConfig, node: String, within limit: Duration, since: ContinuousClock.Instant) async -> (Double?, Double?) {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        var leading: Double?
        while clock.now < deadline {
            if leading == nil, (try? await EtcdCoordinator.forConfig(config).leader())??.node == node {
                leading = (clock.now - since).seconds
                print("\(node) holds the leader key after \(String(format: "%.1f", leading ?? 0))s")
            }
            if leading != nil {
                let rows = (try? await DNSStatusCommand.rows(config)) ?? []
                if rows.allSatisfy(\.inSync) {
                    let synced = (clock.now - since).seconds
                    print("DNS points at \(node) after \(String(format: "%.1f", synced))s")
                    return (leading, synced)
                }
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return (leading, nil)
    }
}
