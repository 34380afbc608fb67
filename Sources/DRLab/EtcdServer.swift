import DRSystem
import Foundation

/// The lab's single etcd member: production runs 3 or 5 across regions, the lab one.
public struct EtcdServer: Sendable, Codable, Equatable {
    public var host: String
    public var clientPort: Int
    public var peerPort: Int
    public var dataDir: String
    public var logFile: String
    public var pidFile: String

    public init(host: String, clientPort: Int, peerPort: Int, dataDir: String, logFile: String, pidFile: String) {
        self.host = host
        self.clientPort = clientPort
        self.peerPort = peerPort
        self.dataDir = dataDir
        self.logFile = logFile
        self.pidFile = pidFile
    }

    /// A single member in `dir` on free loopback ports, for tests and tools.
    public static func scratch(in dir: String) throws -> EtcdServer {
        let client = try PortAllocator.freePort()
        let peer = try PortAllocator.freePort(avoiding: [client])
        return EtcdServer(host: "127.0.0.1", clientPort: client, peerPort: peer, dataDir: "\(dir)/data",
                          logFile: "\(dir)/etcd.log", pidFile: "\(dir)/etcd.pid")
    }

    public var endpoint: String { "http://\(host):\(clientPort)" }

    public var pid: Int32? { PIDFile.read(pidFile) }

    public func start() async throws {
        let peer = "http://\(host):\(peerPort)"
        let pid = try ProcessControl.spawnDaemon([
            "etcd", "--name", "lab", "--data-dir", dataDir,
            "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "lab=\(peer)", "--initial-cluster-state", "new",
            "--initial-cluster-token", "drctl-lab-\(clientPort)",
        ], logFile: logFile)
        try PIDFile.write(pid, to: pidFile)
        try await Readiness.wait(for: "etcd on \(endpoint)", log: logFile, pid: pid) {
            guard PortAllocator.isListening(host, clientPort) else { return false }
            let health = try await CommandRunner.run(["etcdctl", "--endpoints", endpoint, "--dial-timeout", "1s", "endpoint", "health"],
                                                     check: false, environment: ["ETCDCTL_API": "3"])
            return health.status == 0
        }
    }

    public func stop() async throws {
        guard let pid else { return }
        try await ProcessControl.stop(pid, signal: SIGTERM, grace: .seconds(10), name: "etcd")
    }
}

/// PID files for the servers that do not write their own.
enum PIDFile {
    static func write(_ pid: Int32, to path: String) throws {
        try "\(pid)\n".write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The PID in `path` when that process is alive.
    static func read(_ path: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              ProcessControl.isAlive(pid) else { return nil }
        return pid
    }
}

/// Polls a readiness condition until it holds, the process dies, or a deadline passes.
enum Readiness {
    static func wait(for what: String, log: String, pid: Int32?, within limit: Duration = .seconds(30),
                     _ ready: () async throws -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            if try await ready() { return }
            if let pid, !ProcessControl.isAlive(pid) {
                let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").suffix(15).joined(separator: "\n") ?? ""
                throw LabError.io("\(what) exited while starting; last lines of \(log):\n\(tail)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SystemError.timeout(what: what, after: limit, log: log)
    }
}
