import ArgumentParser
import DRCommandLine
import DRCoordination
import DRCore
import DRPostgres
import Foundation

/// The way out when coordination is gone (etcd unreachable, the region cut off): promote a
/// standby directly, as an operator's decision, recorded in the history once etcd is back.
/// What is allowed and recorded is `ForcedPromotionPlan` (DRCore); the steps on the
/// database are `ForcedPromotion` (DRPostgres).
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
        let plan: ForcedPromotionPlan
        switch ForcedPromotionPlan.make(target: node, observations: observations) {
        case .success(let made): plan = made
        case .failure(let refusal): throw CLIExit.failed(refusal.description)
        }
        guard try change.proceed(plan.summary, question: "Promote \(node) without coordination?", cluster: config.cluster) else { return }

        let clock = ContinuousClock()
        let started = clock.now
        let who = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        let millis = Int64(Date().timeIntervalSince1970 * 1000)
        let steps = ForcedPromotion(node: node, conninfo: target.conninfo)
        // The marker goes in first and must be visible to a new session before the promotion.
        let marker = ForcedPromotionPlan.marker(by: who, atMillis: millis)
        do {
            try await steps.placeMarker(marker)
            guard try await steps.markerVisible(marker) else {
                throw CLIExit.failed(
                    "refused: \(node) did not show the forced-promotion marker after a reload; nothing was promoted. "
                        + "While a database or role sets \(PrimaryState.forcedPromotionSetting) the marker is not trusted: "
                        + "find it with SELECT * FROM pg_db_role_setting, RESET it there (on the primary), and try again")
            }
            guard try await steps.promote(timeout: config.failover.promotionTimeout) else {
                throw CLIExit.failed("pg_promote did not finish within \(DurationText.format(config.failover.promotionTimeout)) on \(node)")
            }
        } catch {
            // Should the promotion still complete after this, the agent fences the node: the safe side.
            try? await steps.withdrawMarker()
            if let exit = error as? CLIExit { throw exit }
            throw CLIExit.failed("promoting \(node) failed: \(error)")
        }
        let writable = (clock.now - started).seconds
        print("\(node) promoted and accepting writes; its agent takes the leader key once etcd is back and the old key has expired")
        let record = plan.evidence(
            cluster: config.cluster, by: who, reason: reason, atMillis: millis, finishedAt: UTCTime.iso8601(Date()), writableAfter: writable)
        try await ForcedHistory.record(record, atMillis: millis, config: config)
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
