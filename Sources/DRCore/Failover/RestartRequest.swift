import Foundation

/// `drctl restart NODE [--pending-only]`: restart the node's database in place — the same
/// role, the same timeline, no failover — as `patronictl restart` does; also in pause.
public struct RestartRequest: Sendable, Equatable {
    /// Only when a changed setting waits for a restart (`pg_settings.pending_restart`).
    public var pendingOnly: Bool

    public init(pendingOnly: Bool) { self.pendingOnly = pendingOnly }

    /// The intent's value in etcd.
    public var value: Data { Data((pendingOnly ? "pending-only" : "restart").utf8) }

    public init?(value: Data) {
        switch String(decoding: value, as: UTF8.self) {
        case "restart": pendingOnly = false
        case "pending-only": pendingOnly = true
        default: return nil
        }
    }
}
