import DRAgent
import DRCore
import Foundation

/// Every event the agents of an `AgentCluster` handed over, in order, with the agent that
/// did: what a dispatcher would have claimed in etcd and sent.
public final class RecordingNotifier: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [(agent: String, event: NotificationEvent)] = []

    public init() {}

    public var events: [(agent: String, event: NotificationEvent)] { lock.withLock { recorded } }

    /// The notifier one agent is given.
    public func notifier(for agent: String) -> any Notifier { Recorder(owner: self, agent: agent) }

    struct Recorder: Notifier {
        let owner: RecordingNotifier
        let agent: String

        func notify(_ event: NotificationEvent) { owner.lock.withLock { owner.recorded.append((agent, event)) } }
    }
}
