import DRCore
import Foundation
import Testing

@Suite struct NotificationConfigTests {
    static let channels = """
        notifications:
          - {name: hook, type: webhook, url: "https://hooks.example.com/drctl", secret_env: HOOK_SECRET}
          - {name: chat, type: slack, url_file: /etc/drctl/slack-url, events: [failover, fence]}
          - {name: pager, type: pagerduty, routing_key_env: PD_KEY, events: [failover, etcd-unreachable]}

        """

    @Test func channelsWithTheirSecretsAndEvents() throws {
        let config = try ConfigLoader.load(yaml: ConfigFixtures.valid + Self.channels, file: "x.yaml")
        #expect(
            config.notifications == [
                NotificationChannel(name: "hook", kind: .webhook, endpoint: .url("https://hooks.example.com/drctl"), secret: .environment("HOOK_SECRET")),
                NotificationChannel(name: "chat", kind: .slack, endpoint: .secret(.file("/etc/drctl/slack-url")), events: [.failover, .fence]),
                NotificationChannel(
                    name: "pager", kind: .pagerduty, endpoint: .url(NotificationChannel.pagerDutyEvents), secret: .environment("PD_KEY"),
                    events: [.failover, .etcdUnreachable]),
            ])
        #expect(try ConfigLoader.load(yaml: ConfigFixtures.valid, file: "x.yaml").notifications.isEmpty)
    }

    @Test(arguments: [
        ("  - {name: chat, type: slack, url: \"https://hooks.slack.com/services/T/B/X\"}\n", "a Slack webhook URL is a secret"),
        ("  - {name: pager, type: pagerduty}\n", "routing_key_env"),
        ("  - {name: pager, type: pagerduty, routing_key: abc}\n", "secrets are never read from the config"),
        ("  - {name: hook, type: webhook, url: ftp://x}\n", "expected an http:// or https:// URL"),
        ("  - {name: hook, type: webhook, url: \"https://x\", events: [failover, coffee]}\n", "expected one of"),
        ("  - {name: hook, type: webhook, url: \"https://x\", routing_key_env: K}\n", "does not apply to a webhook channel"),
        ("  - {name: hook, type: teams, url: \"https://x\"}\n", "expected one of webhook, slack, pagerduty"),
        ("  - {name: a, type: webhook, url: \"https://x\"}\n  - {name: a, type: webhook, url: \"https://y\"}\n", "defined twice"),
    ])
    func refused(_ channel: String, _ message: String) throws {
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: ConfigFixtures.valid + "notifications:\n" + channel, file: "x.yaml") }
        #expect(error.diagnostics.contains { $0.description.contains(message) }, "\(error.diagnostics)")
    }
}

/// Each body as its provider documents it.
@Suite struct NotificationPayloadTests {
    static let event = NotificationEvent(
        kind: .failover, severity: .critical, cluster: "shop", node: "pg-2", summary: "failover: pg-2 promoted <now> & then",
        details: ["term": "7", "promoted": "pg-2"], dedupKey: "failover-term-7", at: Date(timeIntervalSince1970: 1_800_000_000))

    static func json(_ kind: NotificationChannel.Kind, _ event: NotificationEvent = event, key: String? = nil) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(NotificationPayload.body(for: kind, event, routingKey: key))) as? [String: Any])
    }

    @Test func pagerDutyTriggersWithTheDocumentedFieldsAndResolvesByTheKey() throws {
        let trigger = try Self.json(.pagerduty, key: "R0UT1NG")
        #expect(trigger["routing_key"] as? String == "R0UT1NG" && trigger["event_action"] as? String == "trigger")
        #expect(trigger["dedup_key"] as? String == "failover-term-7")
        let payload = try #require(trigger["payload"] as? [String: Any])
        #expect(payload["summary"] as? String == "[shop] failover: pg-2 promoted <now> & then")
        #expect(payload["source"] as? String == "pg-2" && payload["severity"] as? String == "critical" && payload["class"] as? String == "failover")
        #expect(payload["timestamp"] as? String == "2027-01-15T08:00:00Z" && (payload["custom_details"] as? [String: String])?["term"] == "7")
        var resolved = Self.event
        resolved.resolves = true
        let resolve = try Self.json(.pagerduty, resolved, key: "R0UT1NG")
        #expect(Set(resolve.keys) == ["routing_key", "event_action", "dedup_key"] && resolve["event_action"] as? String == "resolve")
    }

    @Test func slackGetsEscapedTextAndBlocks() throws {
        let message = try Self.json(.slack)
        #expect(message["text"] as? String == ":rotating_light: [shop] failover: failover: pg-2 promoted &lt;now&gt; &amp; then")
        let blocks = try #require(message["blocks"] as? [[String: Any]])
        #expect(blocks.map { $0["type"] as? String } == ["section", "section", "context"])
    }

    @Test func theWebhookIsTheEvent() throws {
        let body = try Self.json(.webhook)
        #expect(body["kind"] as? String == "failover" && body["dedup_key"] as? String == "failover-term-7" && body["source"] as? String == "drctl")
        #expect(body["resolves"] as? Bool == false && body["cluster"] as? String == "shop")
    }
}
