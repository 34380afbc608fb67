/// `notifications:`, each a channel events are sent to: a generic webhook (JSON, with an
/// optional HMAC-SHA256 signature), a Slack incoming webhook, or PagerDuty's Events API v2.
public struct NotificationChannel: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case webhook, slack, pagerduty
    }

    /// Where the channel's URL comes from: written in the config (a webhook's, PagerDuty's
    /// endpoint) or a secret (a Slack webhook URL carries its own credential).
    public enum Endpoint: Sendable, Equatable {
        case url(String)
        case secret(SecretSource)
    }

    public var name: String
    public var kind: Kind
    public var endpoint: Endpoint
    /// Webhook: the HMAC key of `X-Drctl-Signature`; PagerDuty: the integration's routing key.
    public var secret: SecretSource?
    /// The kinds sent to this channel (every kind unless `events:` narrows it).
    public var events: Set<NotificationEvent.Kind>

    public init(name: String, kind: Kind, endpoint: Endpoint, secret: SecretSource? = nil, events: Set<NotificationEvent.Kind> = Set(NotificationEvent.Kind.allCases)) {
        self.name = name
        self.kind = kind
        self.endpoint = endpoint
        self.secret = secret
        self.events = events
    }

    /// PagerDuty's Events API v2 endpoint.
    public static let pagerDutyEvents = "https://events.pagerduty.com/v2/enqueue"
}

/// Parses `notifications:`.
enum NotificationConfigLoader {
    static func parse(_ field: YAMLField) -> [NotificationChannel]? {
        guard field.isPresent else { return [] }
        guard let items = field.items() else { return nil }
        var channels: [NotificationChannel] = []
        var names = Set<String>()
        for item in items {
            guard let object = item.object(keys: ConfigKeys.notification) else { return nil }
            guard let name = object["name"].string(expected: "the channel's name"), let kind = object["type"].choice(NotificationChannel.Kind.self) else {
                return nil
            }
            if !names.insert(name).inserted { object["name"].report("channel \"\(name)\" is defined twice") }
            for secret in ["secret", "routing_key"] { SecretFields.refuseInline(object, name: secret) }
            var events = Set(NotificationEvent.Kind.allCases)
            if object.has("events") {
                guard let listed = object["events"].items() else { return nil }
                let kinds = listed.compactMap { $0.choice(NotificationEvent.Kind.self) }
                guard kinds.count == listed.count else { return nil }
                if kinds.isEmpty { object["events"].report("is empty: leave it out to send every event") }
                events = Set(kinds)
            }
            let endpoint: NotificationChannel.Endpoint?
            var secret: SecretSource?
            switch kind {
            case .webhook:
                endpoint = url(object, required: true).map { .url($0) }
                secret = SecretFields.read(object, name: "secret", required: false)
                refuse(object, ["routing_key_env", "routing_key_file", "url_env", "url_file"], for: kind)
            case .slack:
                // The incoming webhook's URL is its credential: never in the config.
                if object.has("url") {
                    object["url"].report("a Slack webhook URL is a secret (it lets anyone post): use url_env or url_file")
                }
                endpoint = SecretFields.read(object, name: "url", required: true).map { .secret($0) }
                refuse(object, ["secret_env", "secret_file", "routing_key_env", "routing_key_file"], for: kind)
            case .pagerduty:
                endpoint = .url(url(object, required: false) ?? NotificationChannel.pagerDutyEvents)
                secret = SecretFields.read(object, name: "routing_key", required: true)
                refuse(object, ["secret_env", "secret_file", "url_env", "url_file"], for: kind)
            }
            guard let endpoint else { return nil }
            if kind == .pagerduty, secret == nil { return nil }
            channels.append(NotificationChannel(name: name, kind: kind, endpoint: endpoint, secret: secret, events: events))
        }
        return channels
    }

    private static func url(_ object: YAMLObject, required: Bool) -> String? {
        guard let url = object["url"].string(required: required, expected: "the URL events are POSTed to") else { return nil }
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
            object["url"].report("expected an http:// or https:// URL, found \"\(url)\"")
            return nil
        }
        return url
    }

    private static func refuse(_ object: YAMLObject, _ keys: [String], for kind: NotificationChannel.Kind) {
        for key in keys where object.has(key) { object[key].report("does not apply to a \(kind.rawValue) channel") }
    }
}
