import DRCoordination
import DRCore
import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("reloading the configuration of running agents")
    struct ConfigReloadIntegrationTests {
        func drctl(_ arguments: [String]) async throws -> CommandRunner.Output {
            try await CommandRunner.run([try DrctlBinary.path()] + arguments, check: false)
        }

        func hashes(_ etcd: EtcdCoordinator) async throws -> [String: String] {
            Dictionary(uniqueKeysWithValues: try await etcd.snapshot().members.map { ($0.name, $0.configHash ?? "") })
        }

        @Test func reloadAppliesLiveSettingsRefusesRestartOnesAndNeverKillsTheAgent() async throws {
            try await withLab { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                let region1 = try #require(lab.agents.first { $0.region == "region1" }), region2 = try #require(lab.agents.first { $0.region == "region2" })
                let published = try await eventually(within: .seconds(10)) {
                    let hashes = try await hashes(etcd)
                    return hashes.count == 2 && Set(hashes.values).count == 1 && hashes.values.first?.count == 12
                }
                #expect(published, "both agents publish the same file's hash")
                let original = try String(contentsOfFile: lab.configFile, encoding: .utf8)

                // A live change, reloaded in one region only: status names the drift.
                try (original + "\nlog:\n  level: debug\n").write(toFile: lab.configFile, atomically: true, encoding: .utf8)
                let reloaded = try await drctl(["reload", "--state-dir", region1.stateDir])
                #expect(reloaded.status == 0 && reloaded.stdout.contains("reloaded") && reloaded.stdout.contains("changed: log"), "\(reloaded.stdout)\(reloaded.stderr)")
                let drifted = try await eventually(within: .seconds(5)) { Set(try await hashes(etcd).values).count == 2 }
                #expect(drifted)
                let status = try await drctl(["status", "--config", lab.configFile])
                #expect(status.stdout.contains("the agents run different configuration files"), "\(status.stdout)")
                // The other region by a plain SIGHUP, as `kill -HUP` or an older unit would.
                let pid2 = try #require(region2.pid)
                #expect(kill(pid2, SIGHUP) == 0)
                let agreed = try await eventually(within: .seconds(5)) { Set(try await hashes(etcd).values).count == 1 }
                #expect(agreed, "both run the new file")

                // A change that needs a restart is refused whole; the agent keeps running and guarding.
                let before = try await hashes(etcd)
                let node1 = try lab.node("pg1")
                try original.replacingOccurrences(of: node1.dataDir, with: node1.dataDir + "-moved").write(toFile: lab.configFile, atomically: true, encoding: .utf8)
                let refused = try await drctl(["reload", "--state-dir", region1.stateDir])
                #expect(refused.status == 1 && refused.stdout.contains("not reloaded") && refused.stdout.contains("restart the agent"), "\(refused.stdout)\(refused.stderr)")
                try "cluster: [unclosed".write(toFile: lab.configFile, atomically: true, encoding: .utf8)
                let invalid = try await drctl(["reload", "--state-dir", region1.stateDir, "--json"])
                let outcome = try JSONSerialization.jsonObject(with: Data(invalid.stdout.utf8)) as? [String: Any]
                #expect(invalid.status == 1 && outcome?["applied"] as? Bool == false && outcome?["error"] is String, "\(invalid.stdout)\(invalid.stderr)")
                try original.write(toFile: lab.configFile, atomically: true, encoding: .utf8)
                try await Task.sleep(for: .seconds(2))
                #expect(try await hashes(etcd) == before, "nothing of a refused file was applied")
                let pid1 = try #require(region1.pid)
                #expect(kill(pid1, 0) == 0 && kill(pid2, 0) == 0, "no reload killed an agent")
                #expect(try await lab.status().verdict == .healthy)
                let log = try String(contentsOfFile: region1.logFile, encoding: .utf8)
                #expect(log.contains("reload refused") && log.contains("restart the agent"))

                // Nothing answers for a state directory without an agent.
                let none = try await drctl(["reload", "--state-dir", lab.dir + "/nowhere"])
                #expect(none.status == 1 && none.stderr.contains("no agent found"))
            }
        }
    }
}
