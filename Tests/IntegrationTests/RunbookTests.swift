import DRLab
import DRSystem
import Foundation
import Testing

/// Every runbook's commands, run in order against a lab: a runbook that no longer works
/// fails CI. A read-only command may exit 1 (it reports an unhealthy cluster, which is what
/// the operator reads); every other command must succeed.
extension RealServers {
    @Suite("runbooks against the lab")
    struct RunbookTests {
        static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("runbooks").path

        static var runbooks: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".md") && $0 != "README.md" }.sorted()
        }

        /// The setup lines and the commands of a runbook's `sh` blocks, in order.
        static func extract(_ markdown: String) -> (setup: [String], commands: [String]) {
            var setup: [String] = [], commands: [String] = []
            var inBlock = false
            for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("<!-- test-setup:"), line.hasSuffix("-->") {
                    setup.append(String(line.dropFirst("<!-- test-setup:".count).dropLast(3)).trimmingCharacters(in: .whitespaces))
                } else if line.hasPrefix("```") {
                    inBlock = line == "```sh" ? true : false
                } else if inBlock, !line.isEmpty, !line.hasPrefix("#") {
                    commands.append(line)
                }
            }
            return (setup, commands)
        }

        static func isReadOnly(_ command: String) -> Bool {
            command.firstMatch(of: /^(drctl (status|history|dns status|backup list|drill list|config check)|drctl-lab status)\b/) != nil
        }

        @Test func everyRunbookHasCommands() {
            #expect(Self.runbooks.count >= 7)
            for name in Self.runbooks {
                let text = (try? String(contentsOfFile: "\(Self.directory)/\(name)", encoding: .utf8)) ?? ""
                #expect(!Self.extract(text).commands.isEmpty, "\(name) has no sh commands")
            }
        }

        @Test(arguments: runbooks) func runbookWorksAgainstTheLab(_ name: String) async throws {
            let text = try String(contentsOfFile: "\(Self.directory)/\(name)", encoding: .utf8)
            let (setup, commands) = Self.extract(text)
            try await withLab { lab in
                let binary = try DrctlBinary.path()
                var script = """
                    set -u
                    export PATH="\((binary as NSString).deletingLastPathComponent):$PATH"
                    export DRCTL_CONFIG="\(lab.configFile)" LAB_DIR="\(lab.dir)"
                    export RESTORE_DIR="\(lab.dir)/restored" DATA_DIR="\(lab.dir)/cold"
                    export RESTORE_PORT=\(try PortAllocator.freePort()) PORT=\(try PortAllocator.freePort())
                    check() { # read-only? exit-status command
                      if [ "$2" -ne 0 ] && { [ "$1" = 0 ] || [ "$2" -ne 1 ]; }; then echo "RUNBOOK STEP FAILED (exit $2): $3" >&2; exit 1; fi
                    }

                    """
                for line in setup + commands {
                    let quoted = line.replacing("'", with: "'\\''")
                    script += "\(line)\ncheck \(Self.isReadOnly(line) ? 1 : 0) $? '\(quoted)'\n"
                }
                script += "echo RUNBOOK-DONE\n"
                let path = "\(lab.dir)/runbook.sh"
                try script.write(toFile: path, atomically: true, encoding: .utf8)
                let run = try await CommandRunner.run(["bash", path], check: false)
                #expect(run.status == 0 && run.stdout.contains("RUNBOOK-DONE"), "\(name):\n\(run.stderr.suffix(3000))\n\(run.stdout.suffix(3000))")
                // Leave no process a runbook's setup started (an agent), and no restored instance, behind.
                let pids = (try? String(contentsOfFile: "\(lab.dir)/runbook-pids", encoding: .utf8)) ?? ""
                for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
                for dir in ["\(lab.dir)/restored", "\(lab.dir)/cold"] where FileManager.default.fileExists(atPath: "\(dir)/postmaster.pid") {
                    _ = try? await CommandRunner.run(["/usr/lib/postgresql/15/bin/pg_ctl", "-D", dir, "-m", "immediate", "stop"], as: .forPostgres, check: false)
                }
            }
        }
    }
}
