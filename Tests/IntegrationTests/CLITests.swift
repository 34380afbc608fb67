import DRSystem
import Foundation
import Testing

/// The `drctl` binary's contract: exit codes and messages, run as an operator would.
@Suite(.timeLimit(.minutes(2))) struct CLITests {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs the built drctl with drctl's own process runner (posix_spawn, waitpid on a
    /// thread of its own): Foundation's `Process` now and then missed a child's exit and
    /// hung the whole suite in `waitUntilExit`.
    static func drctl(_ arguments: [String]) async throws -> Result {
        let output = try await CommandRunner.run([try DrctlBinary.path()] + arguments, check: false)
        return Result(status: output.status, stdout: output.stdout, stderr: output.stderr)
    }

    /// A valid cluster on ports of 127.0.0.1 that nothing listens on: connection refused at once.
    static let unreachable = """
        cluster: gone
        objectives: {rto: 30s, rpo: 5s}
        coordination: {endpoints: ["http://127.0.0.1:9"]}
        regions:
          - {name: r1, role: primary, nodes: [{name: a, conninfo: "host=127.0.0.1 port=9 user=postgres", data_dir: /var/lib/postgresql/15/a}]}
          - {name: r2, role: hot-standby, nodes: [{name: b, conninfo: "host=127.0.0.1 port=1 user=postgres", data_dir: /var/lib/postgresql/15/b}]}
        """

    static func writeConfig(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "drctl-cli-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func configCheckExplainsEveryProblemAndExitsTwo() async throws {
        let path = try Self.writeConfig(
            """
            cluster: Bad Name
            objectives: {rto: 30, rpo: 5s}
            coordination: {endpoints: ["127.0.0.1:2379"]}
            regions:
              - {name: r1, role: primary, nodes: [{name: n1, conninfo: "host=127.0.0.1 password=hunter2", data_dir: /var/lib/postgresql/15/n1}]}
              - {name: r2, role: warm, nodes: []}
            typo_key: 1
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await Self.drctl(["config", "check", "--config", path])
        #expect(result.status == 2)
        for expected in [
            "\(path):1:10: cluster: expected a name", "\(path):2:19: objectives.rto: expected a duration",
            "coordination.endpoints[0]: expected an etcd client URL", "regions[0].nodes[0].conninfo: must not contain a password",
            "regions[1].role: expected one of primary, hot-standby, cold", "\(path):7:1: typo_key: unknown key",
        ] {
            #expect(result.stderr.contains(expected), "missing \(expected) in:\n\(result.stderr)")
        }
        #expect(!result.stderr.contains("hunter2") && !result.stdout.contains("hunter2"))
    }

    @Test func configCheckPrintsTheBudgetOfAValidConfig() async throws {
        let path = try Self.writeConfig(
            """
            cluster: ok
            objectives: {rto: 10s, rpo: 5s}
            coordination: {endpoints: ["http://127.0.0.1:2379"], lease_ttl: 5s}
            failover: {promotion_timeout: 10s}
            regions:
              - {name: r1, role: primary, nodes: [{name: n1, conninfo: "host=127.0.0.1", data_dir: /var/lib/postgresql/15/n1}]}
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await Self.drctl(["config", "check", "--config", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("total      15s  objective 10s: DOES NOT FIT"), "\(result.stdout)")
        #expect(result.stdout.contains("the RTO budget 15s exceeds the RTO objective 10s"))
        let json = try await Self.drctl(["config", "check", "--config", path, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["rto_budget_total_seconds"] as? Double == 15)
        #expect(object["rto_budget_fits"] as? Bool == false)
    }

    /// Its agent fences by stopping PostgreSQL in its data directory: without one, a
    /// failover could leave two primaries, so the config is refused before anything runs.
    @Test func configCheckRefusesANodeUnderAutomaticFailoverWithoutDataDir() async throws {
        let path = try Self.writeConfig(
            """
            cluster: shop
            objectives: {rto: 30s, rpo: 5s}
            coordination: {endpoints: ["http://127.0.0.1:2379"]}
            regions:
              - {name: r1, role: primary, nodes: [{name: n1, conninfo: "host=127.0.0.1", data_dir: /var/lib/postgresql/15/n1}]}
              - {name: r2, role: hot-standby, nodes: [{name: n2, conninfo: "host=127.0.0.2"}]}
              - {name: r3, role: cold, nodes: []}
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await Self.drctl(["config", "check", "--config", path])
        #expect(result.status == 2)
        #expect(
            result.stderr.contains("regions[1].nodes[0].data_dir: node \"n2\" is in hot-standby region \"r2\", under automatic failover, but has no data_dir"),
            "\(result.stderr)")
    }

    @Test func statusOfAnUnreachableClusterExitsOneWithDownNodes() async throws {
        let path = try Self.writeConfig(Self.unreachable)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await Self.drctl(["status", "--config", path, "--json"])
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["verdict"] as? String == "no-primary")
        #expect(object.keys.contains("leader") && object.keys.contains("term"))
        let nodes = try #require(object["nodes"] as? [[String: Any]])
        #expect(nodes.map { $0["role"] as? String } == ["down", "down"])
        #expect(nodes.allSatisfy { $0["reachable"] as? Bool == false && $0["lag_bytes"] is NSNull })
        for key in ["name", "region", "role", "reachable", "host", "port", "timeline", "lsn", "lag_bytes", "lag_seconds"] {
            #expect(nodes[0].keys.contains(key), "status --json lacks \(key)")
        }
    }

    @Test func aNodeThatNeverAnswersIsShownDownAfterTheConnectTimeout() async throws {
        let silent = try SilentServer()
        let path = try Self.writeConfig(
            """
            cluster: hung
            objectives: {rto: 30s, rpo: 5s}
            coordination: {endpoints: ["http://127.0.0.1:9"]}
            regions:
              - {name: r1, role: primary, nodes: [{name: a, conninfo: "host=127.0.0.1 port=\(silent.port) user=postgres", data_dir: /var/lib/postgresql/15/a}]}
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await Self.drctl(["status", "--config", path, "--connect-timeout", "2s"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("down"), "\(result.stdout)")
        #expect(result.stdout.lowercased().contains("timeout"), "\(result.stdout)")
    }

    /// Issue 28: bash completes drctl's commands and their options from the script the
    /// argument parser generates (what `make install` puts in bash-completion's directory),
    /// run by a real bash.
    @Test func bashCompletesCommandsAndOptions() async throws {
        let drctl = try DrctlBinary.path()
        let complete = { (line: String) async throws -> [String] in
            let script = """
                source <('\(drctl)' --generate-completion-script bash)
                COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<< "$COMP_LINE"
                [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
                COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
                $(complete -p drctl | sed -E 's/.*-F ([^ ]+).*/\\1/') drctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                printf '%s\\n' "${COMPREPLY[@]}"
                """
            let result = try await CommandRunner.run(["bash", "-c", script], check: false)
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.split(separator: "\n").map(String.init)
        }
        #expect(try await complete("drctl ba").contains("backup"))
        #expect(try await complete("drctl wal-").contains("wal-fetch"))
        #expect(Set(try await complete("drctl backup ")).isSuperset(of: ["run", "list", "verify", "prune"]))
        #expect(try await complete("drctl restore --tar").contains("--target-time"))
    }

    @Test func badUsageExitsTwo() async throws {
        #expect(try await Self.drctl(["status", "--no-such-flag"]).status == 2)
        #expect(try await Self.drctl(["status", "--config", "/nonexistent/drctl.yaml"]).status == 2)
        let lab = try await CommandRunner.run([try DrctlBinary.lab(), "status", "--dir", "/nonexistent-lab"], check: false)
        #expect(lab.status == 1, "\(lab.stderr)")
    }

    /// The shipped binary carries no lab: a drill that injects faults into the lab is
    /// refused before anything runs, with the command that runs it.
    @Test func drctlRefusesALabDrillAndNamesDrctlLab() async throws {
        let path = try Self.writeConfig(Self.unreachable)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let drills = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("drills").path
        let result = try await Self.drctl(["drill", "run", "\(drills)/primary-failure.yaml", "--config", path])
        #expect(result.status == 2 && result.stderr.contains("drctl-lab drill run"), "\(result.stderr)")
        #expect(try await Self.drctl(["lab", "up"]).status == 2, "no lab command in drctl")
    }
}
