import DRCoordination
import DRCore
import DRCrypto
import DRSystem
import Foundation

/// Signs and checks `POST /failsafe` with the cluster's shared secret
/// (`failover.failsafe_secret_env` / `_file`). Without it anyone who reaches a member's agent
/// API can make it promise, over and over, to take no leader key: a forged request cannot
/// start a failover, but repeated it can hold one off for as long as it is sent.
///
/// The signature is HMAC-SHA256 over the exact body, which carries the leader's wall-clock
/// time of sending, the member it is for and a nonce: a request older than half its lease
/// TTL (at most `maxAge`), sent to another member, or heard before is refused, so a captured
/// one cannot be replayed to anyone nor stretch a promise. The member signs its answer the
/// same way over the answer's body, which echoes the nonce, and the leader counts a
/// confirmation only with that signature: a forged or replayed "yes" keeps no leader
/// writable without etcd.
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

    /// Why `body` with `signature` must be refused by `member` at `nowMillis`; nil when it
    /// is authentic, for this member, and fresh. `seen` answers whether a nonce was heard
    /// already (and remembers it).
    public func refusal(body: [UInt8], signature: String?, member: String, nowMillis: Int64, seen: (String) -> Bool = { _ in false }) -> String? {
        guard let signature else { return "the request is not signed (\(Self.header)); this cluster's failsafe requests must be" }
        guard verifies(body: body, signature: signature) else {
            return "the request's signature does not match this member's failover.failsafe_secret"
        }
        guard let request = try? JSONDecoder().decode(FailsafeRequest.self, from: Data(body)), let sent = request.sentAtMillis else {
            return "the signed request carries no sending time (sent_at_ms)"
        }
        guard let to = request.to, let nonce = request.nonce else {
            return "the signed request names no recipient and nonce (to, nonce): sent by an agent too old to confirm safely"
        }
        guard to == member else { return "the request is for \(to), not \(member): a replay" }
        let window = Self.window(ttlMillis: request.ttlMillis)
        let skew = Duration.milliseconds(abs(nowMillis - sent))
        guard skew <= window else {
            return "the request was sent \(DurationText.format(skew)) from this member's clock (more than \(DurationText.format(window))): a replay, or the hosts' clocks differ (check NTP)"
        }
        guard !seen(nonce) else { return "the request's nonce was heard before: a replay" }
        return nil
    }

    /// How far a request's sending time may be from the member's clock: half its lease TTL
    /// (a replay cannot outlive the lease it would stretch), at most `maxAge`.
    public static func window(ttlMillis: Int64) -> Duration { min(maxAge, .milliseconds(max(ttlMillis, 0) / 2)) }

    /// Why the leader must not count `answer` (with `signature` over `body`) from `member`
    /// to its request with `nonce`; nil when it is that member's authentic answer to it.
    public func answerRefusal(_ answer: FailsafeAnswer, body: [UInt8], signature: String?, member: String, nonce: String) -> String? {
        guard let signature, verifies(body: body, signature: signature) else {
            return "\(member)'s answer is not signed with this cluster's failover.failsafe_secret: not counted"
        }
        guard answer.node == member, answer.nonce == nonce else { return "\(member)'s answer is not to this request (node or nonce differ): not counted" }
        return nil
    }

    /// A new random nonce (16 bytes, hex).
    public static func nonce() -> String { Hex.encode((0..<16).map { _ in UInt8.random(in: .min ... .max) }) }

    func verifies(body: [UInt8], signature: String) -> Bool {
        Self.constantTimeEqual(Array(signature.utf8), Array(self.signature(of: body).utf8))
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
