import ArgumentParser
import DRAgent
import DRCommandLine
import Foundation

/// `drctl reload`: signals the agent on this host (SIGHUP) and reports what it applied.
/// `systemctl reload drctl-agent@REGION` runs it, so a refused reload fails the unit's reload.
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the agent on this host re-read its configuration file and report what it applied.",
        discussion: """
            Objectives, health checks and intervals, failover settings (not failsafe), DNS, backups,
            schedules, notifications, log.level, tags and priorities change live. A file that changes
            the cluster's name, etcd, the regions and nodes (addresses, data directories, API ports),
            failsafe or log.format is refused whole: restart the agent to apply it.
            """)

    @Option(name: .long, help: "The agent's state directory (its --state-dir).")
    var stateDir: String = "/var/lib/drctl"

    @Option(name: .long, help: "Seconds to wait for the agent's answer.")
    var timeout: Double = 10

    @Flag(name: .long, help: "Print the outcome as JSON.")
    var json = false

    func run() async throws {
        let pidFile = ConfigReloader.pidFile(stateDir: stateDir)
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw CLIExit.failed("no agent found: \(pidFile) is missing or unreadable (is the agent running with --state-dir \(stateDir)?)")
        }
        // A PID file outlives its process, and the number may be reused: signal only a drctl agent.
        let command = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))).map { $0.split(separator: 0).map { String(decoding: $0, as: UTF8.self) } } ?? []
        guard command.contains("agent"), command.first.map({ $0.hasSuffix("drctl") }) == true else {
            throw CLIExit.failed("no agent runs as PID \(pid) (from \(pidFile)): start it, or pass its --state-dir")
        }
        let outcomeFile = ConfigReloader.outcomeFile(stateDir: stateDir)
        let before = Self.outcome(outcomeFile)?.atMillis ?? 0
        guard kill(pid, SIGHUP) == 0 else {
            throw CLIExit.failed("could not signal the agent (PID \(pid)): \(String(cString: strerror(errno))); run as its user or root")
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while ContinuousClock.now < deadline {
            if let outcome = Self.outcome(outcomeFile), outcome.atMillis > before {
                try report(outcome)
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CLIExit.failed("the agent (PID \(pid)) did not report a reload within \(timeout)s; see its log")
    }

    static func outcome(_ path: String) -> ReloadOutcome? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(ReloadOutcome.self, from: $0) }
    }

    func report(_ outcome: ReloadOutcome) throws {
        if json {
            try JSONOutput.print(outcome)
        } else if outcome.applied {
            print("reloaded: configuration \(outcome.hash); changed: \(outcome.changed.isEmpty ? "nothing" : outcome.changed.joined(separator: ", "))")
        } else if let error = outcome.error {
            print("not reloaded: the file is not valid; the agent keeps running configuration \(outcome.hash)\n\(error)")
        } else {
            print(
                "not reloaded: the file changes what needs a restart; the agent keeps running configuration \(outcome.hash)\n"
                    + outcome.refused.map { "  - \($0)" }.joined(separator: "\n") + "\nrestart the agent to apply it")
        }
        if !outcome.applied { throw CLIExit.unhealthy }
    }
}
