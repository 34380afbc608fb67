import ArgumentParser
import DRCommandLine
import DRCoordination
import DRCore
import DRPostgres
import Foundation

/// The way out when coordination is gone (etcd unreachable, the region cut off): promote a
/// standby directly, as an operator's decision, recorded in the history once etcd is back.
struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Promote a standby directly, without the agents or etcd (--force): only when coordination is gone.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The standby to promote.")
    var node: String

    @Flag(name: .long, help: "Required: this bypasses the leader lock and the RPO gate.")
    var force = false

    @Option(name: .long, help: "Why, for the history (e.g. \"etcd lost in all regions, incident 4711\").")
    var reason: String = "no reason given"

    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let (_, config) = try options.loadConfig()
        guard force else {
            throw CLIExit.badInput("promote bypasses the agents' leader lock: use `drctl failover` or `drctl switchover` while etcd works, or add --force when it does not")
        }
        guard let target = config.node(named: node)?.node else {
            throw CLIExit.badInput("no node named \"\(node)\" (nodes: \(config.nodes.map(\.node.name).joined(separator: ", ")))")
        }
        let observations = await NodeProbe(connectTimeout: .seconds(2)).observeAll(config)
        guard case .standby(let state)? = observations.first(where: { $0.node == node })?.result else {
            throw CLIExit.failed("refused: \(node) is not a reachable standby")
        }
        if let writable = observations.first(where: { if case .primary = $0.result { true } else { false } }) {
            throw CLIExit.failed("refused: \(writable.node) still accepts writes; promoting \(node) would make two primaries (fence \(writable.node) first)")
        }
        let unreachable = observations.filter { if case .standby = $0.result { false } else { true } }.map(\.node).filter { $0 != node }
        let plan = """
            FORCED promotion of \(node) (received up to \(state.receiveLSN.map { "\($0)" } ?? "unknown"), timeline \(state.timeline.map(String.init) ?? "?")):
              no leader lock, no RPO gate; nodes not reachable from here: \(unreachable.isEmpty ? "none" : unreachable.joined(separator: ", "))
              a node you cannot reach may still take writes from clients that reach it: fence it before clients return
            """
        guard try change.proceed(plan, question: "Promote \(node) without coordination?", cluster: config.cluster) else { return }

        let clock = ContinuousClock()
        let started = clock.now
        let who = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        let millis = Int64(Date().timeIntervalSince1970 * 1000)
        // The marker goes in first, by ALTER SYSTEM (a standby cannot write its catalog), and
        // must be visible to a new session before the promotion: the agent fences a writable
        // node that has no lease while etcd is down unless the marker says an operator did it.
        let marker = "by \(who) at \(millis)".replacing("'", with: "''")
        do {
            try await PGConnection.withSession(node: node, conninfo: target.conninfo) { session in
                // PostgreSQL 15 accepts ALTER SYSTEM for a custom setting only once the session knows it.
                _ = try await session.query("SET \(PrimaryState.forcedPromotionSetting) = ''")
                _ = try await session.query("ALTER SYSTEM SET \(PrimaryState.forcedPromotionSetting) = '\(marker)'")
                _ = try await session.query("SELECT pg_reload_conf()")
            }
            guard try await markerVisible(target.conninfo, node: node, marker: marker) else {
                throw CLIExit.failed(
                    "refused: \(node) did not show the forced-promotion marker after a reload; nothing was promoted. "
                        + "While a database or role sets \(PrimaryState.forcedPromotionSetting) the marker is not trusted: "
                        + "find it with SELECT * FROM pg_db_role_setting, RESET it there (on the primary), and try again")
            }
            try await PGConnection.withSession(node: node, conninfo: target.conninfo, statementTimeout: config.failover.promotionTimeout + .seconds(5)) { session in
                let seconds = String(max(1, Int(config.failover.promotionTimeout.seconds)))
                guard try await session.query("SELECT pg_promote(true, $1) AS done", [seconds]).single().bool("done") else {
                    throw CLIExit.failed("pg_promote did not finish within \(seconds)s on \(node)")
                }
            }
        } catch {
            // A marker left on a node that stays a standby would exempt it from fencing if it
            // were promoted later: withdraw it. Should the promotion still complete, the agent
            // fences the node, which is the safe side.
            _ = try? await PGConnection.withSession(node: node, conninfo: target.conninfo) { session in
                _ = try await session.query("ALTER SYSTEM RESET \(PrimaryState.forcedPromotionSetting)")
                _ = try await session.query("SELECT pg_reload_conf()")
            }
            if let exit = error as? CLIExit { throw exit }
            throw CLIExit.failed("promoting \(node) failed: \(error)")
        }
        let writable = (clock.now - started).seconds
        print("\(node) promoted and accepting writes; its agent takes the leader key once etcd is back and the old key has expired")
        var record = FailoverEvidence(
            cluster: config.cluster, term: 0, promoted: node, previousPrimary: nil, finishedAt: ISO8601DateFormatter().string(from: Date()),
            events: [.init(name: "forced promotion issued", at: 0), .init(name: "writable", at: writable)], rtoSeconds: writable,
            dataLostBytes: nil, dataLostSeconds: nil, reason: "forced promotion by \(who) without coordination: \(reason)")
        record.declaredAtMillis = millis
        try await ForcedHistory.record(record, atMillis: millis, config: config)
    }
}

extension PromoteCommand {
    /// Whether new sessions on the node see `marker` (a reload is asynchronous).
    func markerVisible(_ conninfo: String, node: String, marker: String) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while clock.now < deadline {
            let seen = try await PGConnection.withSession(node: node, conninfo: conninfo) { session in
                try await session.query("SELECT coalesce((\(PrimaryState.forcedPromotionQuery)), '') AS m").single().string("m")
            }
            if seen == marker.replacing("''", with: "'") { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

/// Forced promotions are recorded in etcd's history, or kept in a local file until etcd
/// answers again (`drctl history` sends them).
enum ForcedHistory {
    static func directory(cluster: String) -> String {
        let base =
            ProcessInfo.processInfo.environment["DRCTL_STATE_DIR"]
            ?? (ProcessInfo.processInfo.environment["HOME"].map { "\($0)/.local/state/drctl" } ?? "/var/lib/drctl")
        return "\(base)/pending-history/\(cluster)"
    }

    static func record(_ evidence: FailoverEvidence, atMillis millis: Int64, config: ClusterConfig) async throws {
        do {
            try await EtcdCoordinator.forConfig(config).appendForcedHistory(evidence, atMillis: millis)
            print("recorded in the history")
        } catch {
            let dir = directory(cluster: config.cluster)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let path = "\(dir)/forced-\(millis).json"
            try JSONEncoder().encode(evidence).write(to: URL(fileURLWithPath: path), options: .atomic)
            print("etcd unreachable: the record waits in \(path); `drctl history` sends it once etcd answers")
        }
    }

    /// Sends pending records to etcd; each one sent is removed.
    static func flush(_ etcd: EtcdCoordinator, cluster: String) async {
        let dir = directory(cluster: cluster)
        for file in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() where file.hasPrefix("forced-") {
            let path = "\(dir)/\(file)"
            guard let data = FileManager.default.contents(atPath: path), let evidence = try? JSONDecoder().decode(FailoverEvidence.self, from: data),
                let millis = Int64(file.dropFirst("forced-".count).dropLast(".json".count))
            else { continue }
            if (try? await etcd.appendForcedHistory(evidence, atMillis: millis)) != nil { try? FileManager.default.removeItem(atPath: path) }
        }
    }
}
