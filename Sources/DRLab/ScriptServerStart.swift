import DRSystem
import Foundation

/// The lab's Python stand-ins (S3, AWS, notifications) print `listening on HOST:PORT` once
/// they serve: waits for that line in `log`, or for the process to exit (its log says why).
enum ScriptServerStart {
    /// Returns once `pid` listens; on exit or after `limit`, stops it and throws naming `what`
    /// and the end of its log (plus `hint` when it exited).
    static func waitUntilListening(pid: Int32, log: String, what: String, port: Int, within limit: Duration, hint: String = "") async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if text.contains("listening on") { return }
            guard ProcessControl.isAlive(pid) else { throw LabError.io("\(what) exited: \(text.suffix(800))\(hint)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        try? await ProcessControl.stop(pid, signal: SIGTERM, grace: .seconds(5), name: what)
        throw LabError.io("\(what) did not listen on 127.0.0.1:\(port) within \(limit)")
    }
}
