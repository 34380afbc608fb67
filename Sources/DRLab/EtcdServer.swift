import DRSystem
import Foundation

/// One etcd member. The lab runs one by default, or a cluster of 3 or 5 (as production
/// does across regions) with `lab up --etcd-members N`.
public struct EtcdServer: Sendable, Codable, Equatable {
    public var name: String = "lab"
    /// `--initial-cluster`: every member's `name=peerURL`; just this one when alone.
    public var initialCluster: String? = nil
    public var host: String
    public var clientPort: Int
    public var peerPort: Int
    public var dataDir: String
    public var logFile: String
    public var pidFile: String
    /// Serve clients over TLS, demanding a client certificate signed by the same CA.
    public var tls: TLSFiles? = nil
    /// The network namespace it runs in (a region as a host, see `LabHosts`); nil: this one.
    public var namespace: String? = nil
    /// Raft timing in milliseconds; nil: the loopback lab's 50/500, which absorb a member's
    /// loss well within its 2 s lease. Members across regions take etcd's defaults
    /// (100/1000), sized for real round trips. (Optional: older lab.json files lack them.)
    public var heartbeatMillis: Int? = nil
    public var electionMillis: Int? = nil
    /// Raft pre-vote (etcd 3.4's default is off, 3.5's on): a member coming back from a
    /// partition, its term raised by elections it could not win, does not depose the leader.
    public var preVote: Bool? = nil

    /// PEM files for a TLS member: its certificate and key, and the CA that signs clients.
    public struct TLSFiles: Sendable, Codable, Equatable {
        public var caFile: String
        public var certFile: String
        public var keyFile: String

        public init(caFile: String, certFile: String, keyFile: String) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
        }
    }

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
        return EtcdServer(
            host: "127.0.0.1", clientPort: client, peerPort: peer, dataDir: "\(dir)/data",
            logFile: "\(dir)/etcd.log", pidFile: "\(dir)/etcd.pid")
    }

    public var endpoint: String { "\(tls == nil ? "http" : "https")://\(host):\(clientPort)" }
    public var peerURL: String { "http://\(host):\(peerPort)" }

    /// Members that form one cluster, named e1…eN, with their `initialCluster` set.
    public static func cluster(_ members: [EtcdServer]) -> [EtcdServer] {
        let named = members.enumerated().map { index, member in
            var copy = member
            copy.name = "e\(index + 1)"
            return copy
        }
        let initial = named.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
        return named.map { member in
            var copy = member
            copy.initialCluster = initial
            return copy
        }
    }

    public var pid: Int32? { PIDFile.read(pidFile) }

    public func start() async throws {
        try launch()
        try await waitUntilHealthy()
    }

    /// Starts the members of one cluster (see `cluster(_:)`) and waits until each is healthy.
    public static func start(_ members: [EtcdServer]) async throws {
        for member in members { try member.launch() }
        for member in members { try await member.waitUntilHealthy() }
    }

    /// Starts the process without waiting: members of a cluster only become healthy once
    /// a quorum of them runs, so all are launched before any is waited for.
    func launch() throws {
        let pid = try ProcessControl.spawnDaemon(
            inNamespace + [
                "etcd", "--name", name, "--data-dir", dataDir,
                "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
                "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
                "--initial-cluster", initialCluster ?? "\(name)=\(peerURL)", "--initial-cluster-state", "new",
                // Every member must present the same token; peer ports make it unique per lab.
                "--initial-cluster-token", "drctl-lab-" + StableHash.hex(initialCluster ?? peerURL),
                // Loopback round trips are microseconds: a 500 ms election timeout (etcd's default
                // is 1 s, sized for real networks) lets a member's loss be absorbed well within the
                // lab's 2 s lease, as production sizes the lease to cover its own elections.
                "--heartbeat-interval", String(heartbeatMillis ?? 50), "--election-timeout", String(electionMillis ?? 500),
            ] + (preVote == true ? ["--pre-vote"] : []) + tlsArguments, logFile: logFile)
        try PIDFile.write(pid, to: pidFile)
    }

    /// The prefix that runs a command in this member's namespace.
    var inNamespace: [String] { namespace.map { ["ip", "netns", "exec", $0] } ?? [] }

    private var tlsArguments: [String] {
        guard let tls else { return [] }
        return ["--cert-file", tls.certFile, "--key-file", tls.keyFile, "--trusted-ca-file", tls.caFile, "--client-cert-auth"]
    }

    func waitUntilHealthy() async throws {
        try await Readiness.wait(for: "etcd on \(endpoint)", log: logFile, pid: pid) {
            // Another namespace's ports cannot be seen from here: etcdctl runs there instead.
            guard namespace != nil || PortAllocator.isListening(host, clientPort) else { return false }
            // A TLS member demands a client certificate: its own serves (same CA).
            let credentials = tls.map { ["--cacert", $0.caFile, "--cert", $0.certFile, "--key", $0.keyFile] } ?? []
            let health = try await CommandRunner.run(
                inNamespace + ["etcdctl", "--endpoints", endpoint, "--dial-timeout", "1s"] + credentials + ["endpoint", "health"],
                check: false, environment: ["ETCDCTL_API": "3"])
            return health.status == 0
        }
    }

    public func stop() async throws {
        guard let pid else { return }
        try await ProcessControl.stop(pid, signal: SIGTERM, grace: .seconds(10), name: "etcd")
    }

    /// The member of `members` etcd reports as its leader now (`etcdctl endpoint status`),
    /// nil when none answers.
    public static func leader(of members: [EtcdServer]) async -> EtcdServer? {
        let endpoints = members.map(\.endpoint).joined(separator: ",")
        guard
            let output = try? await CommandRunner.run(
                (members.first?.inNamespace ?? []) + ["etcdctl", "--endpoints", endpoints, "--dial-timeout", "1s", "endpoint", "status", "-w", "json"], check: false,
                environment: ["ETCDCTL_API": "3"])
        else { return nil }
        // Member ids are unsigned 64-bit: compared as the digits etcd printed, never as doubles.
        let status = /"Endpoint":"([^"]+)".*?"member_id":(\d+).*?"leader":(\d+)/
        for match in output.stdout.matches(of: status) where match.output.2 == match.output.3 {
            return members.first { $0.endpoint == String(match.output.1) }
        }
        return nil
    }
}

/// A short name derived from text that is the same in every process and run (Swift's
/// `hashValue` is randomized per process): FNV-1a, 32 bits, in hex.
enum StableHash {
    static func hex(_ text: String) -> String {
        String(text.utf8.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 }, radix: 16)
    }
}

/// Polls a readiness condition until it holds, the process dies, or a deadline passes.
enum Readiness {
    static func wait(
        for what: String, log: String, pid: Int32?, within limit: Duration = .seconds(30),
        _ ready: () async throws -> Bool
    ) async throws {
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
