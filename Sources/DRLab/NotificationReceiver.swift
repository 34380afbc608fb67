import DRSystem
import Foundation

/// Local stand-ins for a generic webhook, Slack and PagerDuty (`notify-server.py` beside
/// this file), each checking requests as its provider documents them. Started and stopped
/// by PID; what it received, with each request's verdict, is in `requestLog`.
public struct NotificationReceiver: Sendable {
    public let port: Int
    public let pid: Int32
    public let requestLog: String
    public var url: String { "http://127.0.0.1:\(port)" }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("notify-server.py").path

    /// One request as received: the path's kind (webhook, slack, pagerduty), the status
    /// answered, the verdict ("ok" or what was wrong) and the JSON body.
    public struct Received: @unchecked Sendable {
        public var kind: String
        public var status: Int
        public var verdict: String
        public var body: [String: Any]
    }

    public static func start(directory: String, secret: String?, routingKey: String, failFirst: Int = 0) async throws -> NotificationReceiver {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try PortAllocator.freePort()
        let requestLog = "\(directory)/notifications.jsonl"
        var arguments = ["python3", script, "--port", "\(port)", "--log", requestLog, "--routing-key", routingKey, "--fail-first", "\(failFirst)"]
        if let secret { arguments += ["--secret", secret] }
        let pid = try ProcessControl.spawnDaemon(arguments, logFile: "\(directory)/notify-server.log")
        try await ScriptServerStart.waitUntilListening(
            pid: pid, log: "\(directory)/notify-server.log", what: "notification receiver", port: port, within: .seconds(15))
        return NotificationReceiver(port: port, pid: pid, requestLog: requestLog)
    }

    public func stop() async throws {
        try await ProcessControl.stop(pid, signal: SIGTERM, grace: .seconds(5), name: "notification receiver")
    }

    public func received() -> [Received] {
        let text = (try? String(contentsOfFile: requestLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Received(
                kind: object["kind"] as? String ?? "", status: object["status"] as? Int ?? 0, verdict: object["verdict"] as? String ?? "",
                body: object["body"] as? [String: Any] ?? [:])
        }
    }
}
