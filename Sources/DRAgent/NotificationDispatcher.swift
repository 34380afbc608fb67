import DRCore
import DRCrypto
import DRHTTP
import DRSystem
import Foundation
import Logging
import ServiceLifecycle

/// Where an agent reports events a person must hear of. `notify` never waits: the agent's
/// loop hands the event over and goes on.
public protocol Notifier: Sendable {
    func notify(_ event: NotificationEvent)
}

/// No `notifications:` configured.
public struct SilentNotifier: Notifier {
    public init() {}
    public func notify(_ event: NotificationEvent) {}
}

/// Sends events to the configured channels from a task of its own: each event's key is
/// claimed in etcd first (created only if absent, kept a day), so of the agents that report
/// the same happening exactly one sends it; then every channel subscribed to its kind gets
/// it, retried with backoff on a transport error, 429 or 5xx. Secrets (a Slack URL, a
/// routing key, an HMAC key) are read when sending and never logged.
public final class NotificationDispatcher: Notifier, Service {
    /// The channels as last configured (a reload changes them for the next event).
    var channels: [NotificationChannel] { configured() }
    private let configured: @Sendable () -> [NotificationChannel]
    /// True when this agent is the first to claim the key; throws when etcd cannot answer.
    let claim: @Sendable (String) async throws -> Bool
    let log: Logger
    /// The waits before each retry.
    let backoff: [Duration]
    let client = HTTPClient()
    private let events: AsyncStream<NotificationEvent>
    private let continuation: AsyncStream<NotificationEvent>.Continuation

    public init(
        channels: @escaping @Sendable () -> [NotificationChannel], claim: @escaping @Sendable (String) async throws -> Bool, log: Logger,
        backoff: [Duration] = [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)]
    ) {
        self.configured = channels
        self.claim = claim
        self.log = log
        self.backoff = backoff
        // A storm of events must not grow without bound: the newest are the ones that matter.
        (events, continuation) = AsyncStream.makeStream(of: NotificationEvent.self, bufferingPolicy: .bufferingNewest(256))
    }

    public func notify(_ event: NotificationEvent) {
        guard channels.contains(where: { $0.events.contains(event.kind) }) else { return }
        continuation.yield(event)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for await event in self.events { group.addTask { await self.deliver(event) } }
            }
        }
    }

    func deliver(_ event: NotificationEvent) async {
        // Without etcd no agent can know whether another sent it: sending twice beats not at
        // all (PagerDuty folds repeats by the dedup key). Losing etcd itself is such a case.
        if event.kind != .etcdUnreachable {
            do {
                guard try await claim(event.dedupKey + (event.resolves ? "/resolved" : "")) else { return }
            } catch {
                log.warning("etcd could not deduplicate a notification: sending it anyway", metadata: ["key": "\(event.dedupKey)", "error": "\(error)"])
            }
        }
        await withDiscardingTaskGroup { group in
            for channel in channels where channel.events.contains(event.kind) { group.addTask { await self.send(event, to: channel) } }
        }
    }

    func send(_ event: NotificationEvent, to channel: NotificationChannel) async {
        let metadata: Logger.Metadata = ["channel": "\(channel.name)", "kind": "\(event.kind.rawValue)", "key": "\(event.dedupKey)"]
        let request: HTTPRequest
        do {
            request = try Self.request(event, to: channel, nowSeconds: Int64(Date().timeIntervalSince1970))
        } catch {
            return log.error("notification not sent: its channel's secret cannot be read", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
        var lastProblem = ""
        for (attempt, wait) in ([Duration.zero] + backoff).enumerated() {
            if wait > .zero { try? await Task.sleep(for: wait) }
            do {
                let response = try await client.send(request)
                if (200..<300).contains(response.status) {
                    return log.notice("notification sent", metadata: metadata.merging(["attempt": "\(attempt + 1)"]) { $1 })
                }
                lastProblem = "HTTP \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))"
                // Anything else the provider refused is refused again: retrying cannot help.
                guard response.status == 429 || response.status >= 500 else { break }
            } catch {
                lastProblem = "\(error)"
            }
        }
        log.error("notification not delivered", metadata: metadata.merging(["error": "\(lastProblem)"]) { $1 })
    }

    /// The POST for one channel; a webhook with a secret is signed over
    /// `TIMESTAMP.BODY` (HMAC-SHA256, hex) so its receiver can refuse forgeries and replays.
    static func request(_ event: NotificationEvent, to channel: NotificationChannel, nowSeconds: Int64) throws -> HTTPRequest {
        let url: String
        switch channel.endpoint {
        case .url(let text): url = text
        case .secret(let source): url = try SecretReader.read(source, what: "notification channel \(channel.name)'s URL")
        }
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("User-Agent", "drctl")]
        let routingKey = try channel.kind == .pagerduty ? channel.secret.map { try SecretReader.read($0, what: "channel \(channel.name)'s routing key") } : nil
        let body = NotificationPayload.body(for: channel.kind, event, routingKey: routingKey)
        if channel.kind == .webhook, let secret = channel.secret {
            let key = try SecretReader.read(secret, what: "channel \(channel.name)'s signing secret")
            let signature = HMACSHA256.mac(key: Array(key.utf8), message: Array("\(nowSeconds).".utf8) + body)
            headers += [("X-Drctl-Timestamp", "\(nowSeconds)"), ("X-Drctl-Signature", "sha256=\(Hex.encode(signature))")]
        }
        return HTTPRequest(method: "POST", url: url, headers: headers, body: body, connectTimeout: .seconds(3), timeout: .seconds(10))
    }
}
