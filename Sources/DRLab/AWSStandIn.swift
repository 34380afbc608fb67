import DRSystem
import Foundation

/// Local stand-ins for STS (AssumeRoleWithWebIdentity) and IMDSv2 that check each request as
/// AWS documents it (`aws-standin.py` beside this file), for testing the S3 credential chain.
/// Started and stopped by PID; every request is logged with its verdict.
public struct AWSStandIn: Sendable {
    public let port: Int
    public let pid: Int32
    public let requestLog: String
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("aws-standin.py").path

    /// Hands out `accessKey`/`secretKey`/`sessionToken` for `webIdentityToken` (STS) and to role `role` (IMDS).
    public static func start(
        directory: String, accessKey: String, secretKey: String, sessionToken: String, webIdentityToken: String, role: String
    ) async throws -> AWSStandIn {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try PortAllocator.freePort()
        let log = "\(directory)/aws-requests.jsonl"
        let pid = try ProcessControl.spawnDaemon(
            [
                "python3", script, "--port", "\(port)", "--access-key", accessKey, "--secret-key", secretKey, "--session-token", sessionToken,
                "--web-identity-token", webIdentityToken, "--role", role, "--log", log,
            ], logFile: "\(directory)/aws-standin.log")
        try await ScriptServerStart.waitUntilListening(pid: pid, log: "\(directory)/aws-standin.log", what: "AWS stand-in", port: port, within: .seconds(15))
        return AWSStandIn(port: port, pid: pid, requestLog: log)
    }

    public func stop() async throws {
        try await ProcessControl.stop(pid, signal: SIGTERM, grace: .seconds(5), name: "AWS stand-in")
    }

    /// The verdicts of the requests it saw, in order ("ok" or why it was refused).
    public func verdicts() -> [String] {
        ((try? String(contentsOfFile: requestLog, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["verdict"] as? String
        }
    }
}
