import DRSystem
import Foundation
import Testing

/// `make install` as a packager runs it (DESTDIR, PREFIX, SYSTEMD_DIR), with the debug
/// binary the test suite already built: every file in place, the unit pointing at the
/// installed binary and README, and the installed reference configuration valid for the
/// installed binary.
@Suite(.timeLimit(.minutes(3))) struct InstallTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func makeInstallPutsEveryFileInPlace() async throws {
        _ = try DrctlBinary.path()
        let stage = "/tmp/drctl-install-\(UUID().uuidString.prefix(8).lowercased())"
        defer { try? FileManager.default.removeItem(atPath: stage) }
        let make = try await CommandRunner.run(
            ["make", "-C", Self.root, "--no-print-directory", "install", "CONFIGURATION=debug", "DESTDIR=\(stage)", "PREFIX=/opt/drctl", "SYSTEMD_DIR=/lib/systemd/system"],
            check: false)
        #expect(make.status == 0, "\(make.stdout)\(make.stderr)")

        let binary = "\(stage)/opt/drctl/bin/drctl"
        #expect(FileManager.default.isExecutableFile(atPath: binary))
        let unit = try String(contentsOfFile: "\(stage)/lib/systemd/system/drctl-agent@.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/opt/drctl/bin/drctl agent --region %i"), "\(unit)")
        #expect(unit.contains("Documentation=file:/opt/drctl/share/doc/drctl/README.md"), "\(unit)")
        #expect(unit.contains("ExecReload=/opt/drctl/bin/drctl reload --state-dir /var/lib/drctl/%i"), "\(unit)")
        // systemd's own parser, on an instance of the unit pointing at the staged binary.
        let instance = "\(stage)/drctl-agent@region1.service"
        try unit.replacingOccurrences(of: "/opt/drctl/bin/drctl", with: binary).write(toFile: instance, atomically: true, encoding: .utf8)
        let verify = try await CommandRunner.run(["systemd-analyze", "verify", instance], check: false)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let doc = "\(stage)/opt/drctl/share/doc/drctl"
        for file in ["drctl.yaml", "README.md", "DEPENDENCIES"] { #expect(FileManager.default.fileExists(atPath: "\(doc)/\(file)"), "\(file)") }
        let runbooks = try FileManager.default.contentsOfDirectory(atPath: "\(doc)/runbooks").filter { $0.hasSuffix(".md") }
        #expect(runbooks.count == (try FileManager.default.contentsOfDirectory(atPath: "\(Self.root)/runbooks").filter { $0.hasSuffix(".md") }.count))
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: "\(stage)/etc/drctl", isDirectory: &isDirectory) && isDirectory.boolValue)
        // Shell completion where each shell looks, and the installed binary's own (current).
        for (shell, path) in [
            ("bash", "share/bash-completion/completions/drctl"), ("zsh", "share/zsh/site-functions/_drctl"), ("fish", "share/fish/vendor_completions.d/drctl.fish"),
        ] {
            let installed = try String(contentsOfFile: "\(stage)/opt/drctl/\(path)", encoding: .utf8)
            let current = try await CommandRunner.run([binary, "--generate-completion-script", shell]).stdout
            #expect(!installed.isEmpty && installed == current, "\(path)")
        }

        let check = try await CommandRunner.run([binary, "config", "check", "--config", "\(doc)/drctl.yaml"], check: false)
        #expect(check.status == 0 && check.stdout.contains("valid") && !check.stdout.contains("warnings:"), "\(check.stdout)\(check.stderr)")
    }

    /// `drctl --version`: `dev` from a development build; the release build carries the
    /// Makefile's VERSION, stamped by the script `make install` runs around it (tried here on
    /// a copy: a release build takes minutes).
    @Test func theVersionIsStampedForReleasesAndDevOtherwise() async throws {
        let version = try await CommandRunner.run([try DrctlBinary.path(), "--version"], check: false)
        #expect(version.status == 0 && version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "drctl dev", "\(version.stdout)\(version.stderr)")
        let copy = "/tmp/drctl-version-\(UUID().uuidString.prefix(8)).swift"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try FileManager.default.copyItem(atPath: "\(Self.root)/Sources/drctl/BuildVersion.swift", toPath: copy)
        let script = "\(Self.root)/scripts/stamp-version.sh"
        #expect(try await CommandRunner.run(["bash", script, copy, "v1.4.0-3-gca30c8c-dirty"], check: false).status == 0)
        #expect(try String(contentsOfFile: copy, encoding: .utf8).contains(#"static let value = "v1.4.0-3-gca30c8c-dirty""#))
        let refused = try await CommandRunner.run(["bash", script, copy, "x\"; rm -rf /"], check: false)
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(try await CommandRunner.run(["bash", script, copy, "dev"], check: false).status == 0)
        #expect(try String(contentsOfFile: copy, encoding: .utf8) == String(contentsOfFile: "\(Self.root)/Sources/drctl/BuildVersion.swift", encoding: .utf8))
    }
}
