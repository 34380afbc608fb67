import DRCore
import Foundation

/// The steps of a forced promotion on the target's server (`ForcedPromotionPlan` decides
/// whether and which): the marker placed and seen, the promotion, and the marker withdrawn
/// when the promotion did not happen.
public struct ForcedPromotion: Sendable {
    public let node: String
    public let conninfo: String

    public init(node: String, conninfo: String) {
        self.node = node
        self.conninfo = conninfo
    }

    /// Sets the marker by ALTER SYSTEM (a standby cannot write its catalog) and reloads.
    public func placeMarker(_ marker: String) async throws {
        let quoted = marker.replacing("'", with: "''")
        try await PGConnection.withSession(node: node, conninfo: conninfo) { session in
            // PostgreSQL 15 accepts ALTER SYSTEM for a custom setting only once the session knows it.
            _ = try await session.query("SET \(PrimaryState.forcedPromotionSetting) = ''")
            _ = try await session.query("ALTER SYSTEM SET \(PrimaryState.forcedPromotionSetting) = '\(quoted)'")
            _ = try await session.query("SELECT pg_reload_conf()")
        }
    }

    /// Whether new sessions see `marker` within `limit` (a reload is asynchronous; a
    /// database or role that sets the same name hides it, and then it is not trusted).
    public func markerVisible(_ marker: String, within limit: Duration = .seconds(10)) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            let seen = try await PGConnection.withSession(node: node, conninfo: conninfo) { session in
                try await session.query("SELECT coalesce((\(PrimaryState.forcedPromotionQuery)), '') AS m").single().string("m")
            }
            if seen == marker { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// `pg_promote`, waiting up to `timeout`; false when it did not finish in time.
    public func promote(timeout: Duration) async throws -> Bool {
        let seconds = String(max(1, Int(timeout.seconds)))
        return try await PGConnection.withSession(node: node, conninfo: conninfo, statementTimeout: timeout + .seconds(5)) { session in
            try await session.query("SELECT pg_promote(true, $1) AS done", [seconds]).single().bool("done")
        }
    }

    /// Removes the marker: left on a node that stays a standby it would exempt the node
    /// from fencing were it promoted later.
    public func withdrawMarker() async throws {
        try await PGConnection.withSession(node: node, conninfo: conninfo) { session in
            _ = try await session.query("ALTER SYSTEM RESET \(PrimaryState.forcedPromotionSetting)")
            _ = try await session.query("SELECT pg_reload_conf()")
        }
    }
}
