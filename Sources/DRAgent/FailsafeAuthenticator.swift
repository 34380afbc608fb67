import DRCoordination
import DRCore
import DRCrypto
import Foundation

/// Signs and checks `POST /failsafe` with the cluster's shared secret
/// (`failover.failsafe_secret_env` / `_file`). Without it anyone who reaches a member's agent
/// API can make it promise, over and over, to take no leader key: a forged request cannot
/// start a failover, but repeated it can hold one off for as long as it is sent.
///
/// The signature is HMAC-SHA256 over the exact body, which carries the leader's wall-clock
/// time of sending: a request older than `maxAge` (or from that far in the future) is
/// refused, so a captured one cannot be replayed after its leader is gone.
public struct FailsafeAuthenticator: Sendable {
    /// The header carrying `sha256=<hex HMAC of the body>`.
    public static let header = "X-Drctl-Failsafe-Signature"
    /// How far the request's sending time may be from the member's clock (hosts' clocks
    /// agree to milliseconds under NTP; `drctl preflight` reports skew long before this).
    public static let maxAge: Duration = .seconds(30)

    private let key: [UInt8]

    public init(secret: String) { key = Array(secret.utf8) }

    /// The authenticator for `config`'s secret; nil when none is configured. Throws when the
    /// secret is configured but cannot be read (named by its source, never its value).
    public static func load(_ config: ClusterConfig) throws -> FailsafeAuthenticator? {
        guard let source = config.failover.failsafeSecret else { return nil }
        return FailsafeAuthenticator(secret: try SecretReader.read(source, what: "failover.failsafe_secret"))
    }

    /// The header's value for `body`.
    public func signature(of body: [UInt8]) -> String { "sha256=" + Hex.encode(HMACSHA256.mac(key: key, message: body)) }

    /// Why `body` with `signature` must be refused at `nowMillis`; nil when it is authentic
    /// and fresh.
    public func refusal(body: [UInt8], signature: String?, nowMillis: Int64) -> String? {
        guard let signature else { return "the request is not signed (\(Self.header)); this cluster's failsafe requests must be" }
        guard Self.constantTimeEqual(Array(signature.utf8), Array(self.signature(of: body).utf8)) else {
            return "the request's signature does not match this member's failover.failsafe_secret"
        }
        guard let request = try? JSONDecoder().decode(FailsafeRequest.self, from: Data(body)), let sent = request.sentAtMillis else {
            return "the signed request carries no sending time (sent_at_ms)"
        }
        let skew = Duration.milliseconds(abs(nowMillis - sent))
        guard skew <= Self.maxAge else {
            return "the request was sent \(DurationText.format(skew)) from this member's clock (more than \(DurationText.format(Self.maxAge))): a replay, or the hosts' clocks differ (check NTP)"
        }
        return nil
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
