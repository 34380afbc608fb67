import DRCoordination
import DRCore
import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("role-change hooks through a failover in the lab")
    struct HooksIntegrationTests {
        func drctl(_ arguments: [String]) async throws -> CommandRunner.Output {
            try await CommandRunner.run([try DrctlBinary.path()] + arguments, check: false)
        }

        func lines(_ path: String) -> [String] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        @Test func theNewPrimarysHookRunsUnderItsTermAndEveryRunIsInTheHistory() async throws {
            try await withLab { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                // Hooks added to the running agents by a reload, as an operator would.
                let hookLog = "\(lab.dir)/hooks.log"
                let command = #"echo "$DRCTL_NODE $1 $2 $DRCTL_TERM" >> "# + hookLog
                let original = try String(contentsOfFile: lab.configFile, encoding: .utf8)
                try (original + "\nhooks:\n  on_role_change: '\(command)'\n  on_stop: '\(command)'\n  timeout: 5s\n")
                    .write(toFile: lab.configFile, atomically: true, encoding: .utf8)
                for agent in lab.agents {
                    let reload = try await drctl(["reload", "--state-dir", agent.stateDir])
                    #expect(reload.status == 0 && reload.stdout.contains("hooks"), "\(reload.stdout)\(reload.stderr)")
                }
                let pg1 = try lab.node("pg1")
                let caughtUp = try await eventually(within: .seconds(10)) { try await lab.status().nodes.first { $0.name == "pg2" }?.lagBytes == 0 }
                #expect(caughtUp)

                // pg1's database crashes; its agent fences it and pg2 takes over.
                _ = try await CommandRunner.run(["/usr/lib/postgresql/15/bin/pg_ctl", "-D", pg1.dataDir, "-m", "immediate", "stop"], as: .forPostgres, check: false)
                let promoted = try await eventually(within: .seconds(30)) { try await etcd.leader()?.node == "pg2" }
                #expect(promoted)
                let term = try #require(try await etcd.leader()?.term)
                let announced = try await eventually(within: .seconds(10)) { lines(hookLog).contains("pg2 on_role_change primary \(term)") }
                #expect(announced, "\(lines(hookLog))")
                #expect(lines(hookLog).contains { $0.hasPrefix("pg1 on_role_change ") && ($0.contains(" down ") || $0.contains(" fenced ")) }, "\(lines(hookLog))")
                #expect(!lines(hookLog).contains { $0.hasPrefix("pg1 on_role_change primary") }, "the old primary never announces itself again")

                // Every run is in the history.
                let recorded = try await eventually(within: .seconds(5)) {
                    let history = try await drctl(["history", "--hooks", "--config", lab.configFile])
                    return history.stdout.contains("pg2 on_role_change primary (term \(term)): succeeded, exit 0")
                }
                #expect(recorded)
                let json = try await drctl(["history", "--hooks", "--json", "--config", lab.configFile])
                let runs = try JSONDecoder().decode([HookRun].self, from: Data(json.stdout.utf8))
                #expect(runs.contains { $0.node == "pg1" && $0.event == .onRoleChange && $0.outcome == .succeeded })

                // on_stop, as the agent stops (SIGTERM), before it exits.
                let region2 = try #require(lab.agents.first { $0.region == "region2" })
                let pid = try #require(region2.pid)
                kill(pid, SIGTERM)
                let stopped = try await eventually(within: .seconds(15)) { lines(hookLog).contains("pg2 on_stop primary \(term)") }
                #expect(stopped, "\(lines(hookLog))")
            }
        }
    }
}
