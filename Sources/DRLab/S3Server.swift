import DRSystem
import Foundation

/// A local S3 (moto's, behind a gate that recomputes every request's SigV4 signature with
/// botocore) on loopback, for tests, the lab and benchmarks: `s3-server.py` beside this
/// file. Started and stopped by PID; every request it saw is in `requestLog`, one JSON
/// line each with the gate's verdict.
public struct S3Server: Sendable {
    public let port: Int
    public let pid: Int32
    public let accessKey: String
    public let secretKey: String
    public let region: String
    public let requestLog: String
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("s3-server.py").path

    /// S3 under load, drawn from a seed: the share of requests answered 503 SlowDown, and
    /// of object downloads whose connection drops after half the body.
    public struct Faults: Sendable {
        public var seed: Int
        public var slowDown: Double
        public var cutBody: Double
        public init(seed: Int, slowDown: Double, cutBody: Double) {
            self.seed = seed
            self.slowDown = slowDown
            self.cutBody = cutBody
        }
    }

    /// Starts the server with `buckets` created in `region`; returns once it answers.
    public static func start(directory: String, region: String, buckets: [String], sessionToken: String? = nil, faults: Faults? = nil) async throws
        -> S3Server
    {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try PortAllocator.freePort()
        let accessKey = "AKID" + UUID().uuidString.prefix(12).uppercased().replacing("-", with: "")
        let secretKey = UUID().uuidString + UUID().uuidString
        let requestLog = "\(directory)/s3-requests.jsonl"
        var arguments = [
            "python3", script, "--port", "\(port)", "--access-key", accessKey, "--secret-key", secretKey, "--region", region, "--log", requestLog,
        ]
        if let sessionToken { arguments += ["--session-token", sessionToken] }
        if let faults { arguments += ["--fault-seed", "\(faults.seed)", "--slow-down", "\(faults.slowDown)", "--cut-body", "\(faults.cutBody)"] }
        for bucket in buckets { arguments += ["--bucket", bucket] }
        let pid = try ProcessControl.spawnDaemon(arguments, logFile: "\(directory)/s3-server.log")
        try await ScriptServerStart.waitUntilListening(
            pid: pid, log: "\(directory)/s3-server.log", what: "S3 server", port: port, within: .seconds(30),
            hint: " (moto and boto3 from PyPI are needed: pip install 'moto[server]' boto3)")
        return S3Server(port: port, pid: pid, accessKey: accessKey, secretKey: secretKey, region: region, requestLog: requestLog)
    }

    public func stop() async throws {
        try await ProcessControl.stop(pid, signal: SIGTERM, grace: .seconds(5), name: "S3 server")
    }

    /// The requests the gate saw, each with its verdict ("ok" or why it was refused).
    public func requests() -> [(method: String, host: String, path: String, query: String, verdict: String)] {
        let text = (try? String(contentsOfFile: requestLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return (
                object["method"] as? String ?? "", object["host"] as? String ?? "", object["path"] as? String ?? "", object["query"] as? String ?? "",
                object["verdict"] as? String ?? ""
            )
        }
    }
}
