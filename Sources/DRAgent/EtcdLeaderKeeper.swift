import DRCoordination
import DRCore
import Foundation
import Logging
import ServiceLifecycle

/// Keeps etcd's raft leader out of the primary's region (`EtcdLeaderPlacement`, issue 30):
/// while a node of this region holds the leader key, it asks etcd who leads it at once when
/// its term begins and then every `every`, and moves etcd's leadership elsewhere (etcd's
/// MoveLeader) when it finds it beside the primary. Runs only when the regions name their
/// etcd members (`regions[].etcd_member`); off the loop, so etcd's slowness never delays a
/// decision.
struct EtcdLeaderKeeper: Service {
    let live: LiveConfig
    let region: String
    let nodes: [String]
    let coordinator: EtcdCoordinator
    let board: AgentStateBoard
    let metrics: AgentMetrics
    let log: Logger
    var every: Duration = .seconds(10)

    /// Whether any region names its etcd member (else there is nothing to place).
    static func applies(to config: ClusterConfig) -> Bool { config.regions.contains { $0.etcdMember != nil } }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var checkedTerm: Int64?
            var checkedAt = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                // The board is this process's memory: looking costs etcd nothing.
                guard let term = nodes.lazy.compactMap({ board.snapshot(of: $0) }).first(where: { $0.holdsLease && $0.leader == $0.node })?.term else {
                    checkedTerm = nil
                    continue
                }
                guard term != checkedTerm || ContinuousClock.now - checkedAt >= every else { continue }
                checkedTerm = term
                checkedAt = .now
                await CancellableWait.until(Task { await placeOnce() })
            }
        }
    }

    func placeOnce() async {
        let leadership: EtcdCoordinator.EtcdLeadership
        do { leadership = try await coordinator.etcdLeadership() } catch {
            return log.warning("could not ask etcd who leads it; asked again later", metadata: ["error": "\(error)"])
        }
        let targets = EtcdLeaderPlacement.transferees(
            leaderID: leadership.leaderID, members: leadership.members, primaryRegion: region, regions: live.value.regions)
        let from = leadership.members.first { $0.id == leadership.leaderID }?.name ?? leadership.leaderID
        for target in targets {
            do {
                try await coordinator.moveEtcdLeader(to: target.id, leaderURLs: leadership.clientURLs[leadership.leaderID] ?? [])
                metrics.etcdLeaderMoved()
                return log.notice(
                    "moved etcd's raft leader out of the primary's region: losing this region now costs no etcd election",
                    metadata: ["from": "\(from)", "to": "\(target.name)", "region": "\(region)"])
            } catch {
                // A member that is down cannot lead: the next one is asked.
                log.warning("could not move etcd's raft leader", metadata: ["from": "\(from)", "to": "\(target.name)", "error": "\(error)"])
            }
        }
    }
}
