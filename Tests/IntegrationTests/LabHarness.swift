import DRCoordination
import DRCore
import DRLab
import DRPostgres
import Foundation
import Testing

/// Runs `body` against a fresh lab in its own directory and ports, and takes the lab down
/// afterwards whether `body` passed, failed or threw.
func withLab(
    agents: Bool = true, etcdMembers: Int = 1, failover: LabFailoverSettings = LabFailoverSettings(),
    _ body: (LabState) async throws -> Void
) async throws {
    let dir = "/tmp/drctl-it-\(UUID().uuidString.prefix(8).lowercased())"
    let state = try await Lab.up(dir: dir, agentBinary: agents ? try DrctlBinary.path() : nil, etcdMembers: etcdMembers, failover: failover)
    do {
        try await body(state)
    } catch {
        try? await Lab.down(dir: dir)
        throw error
    }
    try await Lab.down(dir: dir)
}

/// Polls `condition` until it holds or `limit` passes; returns whether it held. A deadline
/// keeps a broken lab from hanging the suite; it asserts nothing about speed.
func eventually(within limit: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while clock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(200))
    }
    return try await condition()
}

extension LabState {
    func config() throws -> ClusterConfig {
        let text = try String(contentsOfFile: configFile, encoding: .utf8)
        return try ConfigLoader.load(yaml: text, file: configFile)
    }

    func status() async throws -> StatusReport {
        let config = try config()
        return ClusterStatus.evaluate(config: config, observations: await NodeProbe().observeAll(config))
    }

    func node(_ name: String) throws -> PostgresServer {
        try server(try #require(nodes.first { $0.name == name }))
    }
}

/// The `drctl` executable that `swift build --build-tests` put beside the test bundle.
enum DrctlBinary {
    /// The built `drctl`.
    static func path() throws -> String { try built("drctl") }
    /// The built `drctl-lab` (the lab, its faults, campaigns and lab drills).
    static func lab() throws -> String { try built("drctl-lab") }

    static func built(_ name: String) throws -> String {
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            bundleDir.appendingPathComponent(name).path,
            bundleDir.deletingLastPathComponent().appendingPathComponent(name).path,
        ]
        return try #require(
            candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
            "\(name) is not built: run `swift build --build-tests` (make test does)")
    }
}

/// Every suite that starts real servers nests here and runs one test at a time: two
/// cores running several labs at once make lease and failover timing flaky. Each test is
/// stopped after ten minutes (the longest takes about two), so a wedged lab fails its own
/// test instead of eating CI's budget.
@Suite(.serialized, .tags(.lab), .timeLimit(.minutes(10))) enum RealServers {}

/// Where a test keeps what a reader of its failure needs (logs, rulesets, screenshots):
/// `.build/test-artifacts/`, which `make flake-hunt` lists after each failed run.
enum TestArtifacts {
    static let root =
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/test-artifacts").path

    /// A new directory for one failure of `name`, stamped with the time it was kept.
    static func directory(_ name: String) -> String {
        let stamp = ISO8601DateFormatter().string(from: Date()).replacing(":", with: "")
        return "\(root)/\(name)-\(stamp)"
    }
}
