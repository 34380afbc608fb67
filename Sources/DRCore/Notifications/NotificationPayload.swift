import Foundation

/// The bodies each channel kind is sent, as its provider documents them: a generic
/// webhook's JSON (the event itself), a Slack incoming webhook's message (`text`, with
/// `blocks` for layout), and PagerDuty's Events API v2 event (trigger, or resolve by the
/// same `dedup_key`).
public enum NotificationPayload {
    public static func body(for channel: NotificationChannel.Kind, _ event: NotificationEvent, routingKey: String? = nil) -> [UInt8] {
        let object: [String: Any]
        switch channel {
        case .webhook: object = webhook(event)
        case .slack: object = slack(event)
        case .pagerduty: object = pagerDuty(event, routingKey: routingKey ?? "")
        }
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    static func webhook(_ event: NotificationEvent) -> [String: Any] {
        [
            "source": "drctl", "kind": event.kind.rawValue, "severity": event.severity.rawValue, "cluster": event.cluster, "node": event.node,
            "summary": event.summary, "details": event.details, "dedup_key": event.dedupKey, "resolves": event.resolves, "at": event.at,
        ]
    }

    /// `text` is what notifications and screen readers show; `blocks` the message itself.
    static func slack(_ event: NotificationEvent) -> [String: Any] {
        let mark = event.resolves ? ":white_check_mark:" : event.severity == .critical ? ":rotating_light:" : ":warning:"
        let text = "\(mark) [\(event.cluster)] \(event.kind.rawValue): \(event.summary)"
        let facts = event.details.sorted { $0.key < $1.key }.map { "*\(escapeSlack($0.key))*: \(escapeSlack($0.value))" }
        var blocks: [[String: Any]] = [
            ["type": "section", "text": ["type": "mrkdwn", "text": "\(mark) *\(escapeSlack(event.kind.rawValue))* on `\(escapeSlack(event.cluster))`: \(escapeSlack(event.summary))"]]
        ]
        if !facts.isEmpty { blocks.append(["type": "section", "text": ["type": "mrkdwn", "text": facts.joined(separator: "\n")]]) }
        blocks.append(["type": "context", "elements": [["type": "mrkdwn", "text": "node \(escapeSlack(event.node)) · \(event.at) · drctl"]]])
        return ["text": escapeSlack(text), "blocks": blocks]
    }

    /// Slack's mrkdwn escapes exactly these three characters.
    static func escapeSlack(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
    }

    /// A trigger carries the payload; a resolve needs only the key it resolves.
    static func pagerDuty(_ event: NotificationEvent, routingKey: String) -> [String: Any] {
        let dedup = String(event.dedupKey.prefix(255))
        if event.resolves { return ["routing_key": routingKey, "event_action": "resolve", "dedup_key": dedup] }
        return [
            "routing_key": routingKey, "event_action": "trigger", "dedup_key": dedup, "client": "drctl",
            "payload": [
                "summary": String("[\(event.cluster)] \(event.summary)".prefix(1024)), "source": event.node, "severity": event.severity.rawValue,
                "timestamp": event.at, "component": event.node, "group": event.cluster, "class": event.kind.rawValue, "custom_details": event.details,
            ],
        ]
    }
}
