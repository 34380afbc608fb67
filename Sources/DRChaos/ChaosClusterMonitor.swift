import DRCoordination
import DRCore
import Foundation
import Synchronization

/// Reads etcd every quarter second while the faults run, as an operator's dashboard
/// would: maintenance, the leader, members waiting for an operator. The write-gap verdict
/// uses it to tell a stretch without writes that the design calls for (paused, a cooldown,
/// etcd gone) from one it does not.
final class ChaosClusterMonitor: Sendable {
    private let samples = Mutex<[ChaosChecker.ClusterSample]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts sampling `coordinator`'s snapshot; times are seconds since `started`.
    func start(_ coordinator: EtcdCoordinator, started: ContinuousClock.Instant) {
        let sampling = Task { [weak self] in
            while !Task.isCancelled, let self {
                let at = (ContinuousClock.now - started).seconds
                let sample: ChaosChecker.ClusterSample
                if let snapshot = try? await coordinator.snapshot() {
                    sample = .init(
                        at: at, readable: true, paused: snapshot.paused, leader: snapshot.leader?.node,
                        holds: snapshot.members.compactMap { member in member.hold.map { "\(member.name): \($0)" } })
                } else {
                    sample = .init(at: at, readable: false)
                }
                self.samples.withLock { $0.append(sample) }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        task.withLock { $0 = sampling }
    }

    /// A campaign that threw stops its sampling with it.
    deinit { task.withLock { $0?.cancel() } }

    /// Stops sampling and returns what was seen, in order.
    func stop() async -> [ChaosChecker.ClusterSample] {
        let sampling = task.withLock { $0 }
        sampling?.cancel()
        await sampling?.value
        return samples.withLock { $0 }
    }
}
