import ArgumentParser
import DRCommandLine
import DRCoordination
import DRCore
import Foundation

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract:
            "Past failovers with their timelines, measured RTO and data lost, the stretches the leader ran without etcd (failsafe), and the hooks' runs.")

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Only the failsafe episodes (with --json: their array instead of the failovers').")
    var failsafe = false

    @Flag(name: .long, help: "Only the hooks' runs (with --json: their array).")
    var hooks = false

    func run() async throws {
        let (_, config) = try options.loadConfig()
        let history: [FailoverEvidence]
        let episodes: [FailsafeEpisode]
        let runs: [HookRun]
        do {
            let etcd = try EtcdCoordinator.forConfig(config)
            await ForcedHistory.flush(etcd, cluster: config.cluster)
            history = try await etcd.history()
            episodes = try await etcd.failsafeEpisodes()
            runs = try await etcd.hookRuns()
        } catch {
            throw CLIExit.failed("cannot read the history from etcd: \(error)")
        }
        if options.json { return hooks ? try JSONOutput.print(runs) : failsafe ? try JSONOutput.print(episodes) : try JSONOutput.print(history) }
        if hooks {
            if runs.isEmpty { print("no hook runs recorded for cluster \(config.cluster)") }
            for run in runs { print(Self.line(run)) }
            return
        }
        if !failsafe {
            if history.isEmpty { print("no failovers recorded for cluster \(config.cluster)") }
            for entry in history {
                let lost = entry.dataLostBytes.map { "\($0) bytes" } ?? "unknown"
                print(
                    "term \(entry.term)  \(entry.finishedAt)  \(entry.previousPrimary ?? "?") -> \(entry.promoted)  RTO \(String(format: "%.2f", entry.rtoSeconds))s  data lost \(lost)  (\(entry.reason))"
                )
                print("  " + entry.events.map { "\($0.name) +\(String(format: "%.2f", $0.at))s" }.joined(separator: ", "))
            }
        }
        if failsafe, episodes.isEmpty { print("no failsafe episodes recorded for cluster \(config.cluster)") }
        for episode in episodes {
            let started = UTCTime.iso8601(Date(timeIntervalSince1970: Double(episode.startedAtMillis) / 1000))
            print(
                "failsafe  \(started)  \(episode.leader) (term \(episode.term)) writable without etcd for \(String(format: "%.1f", episode.seconds))s, "
                    + "confirmed by \(episode.confirmedBy.isEmpty ? "no other member" : episode.confirmedBy.joined(separator: ", ")) in \(episode.rounds) rounds; \(episode.outcome)")
        }
        // The latest hook runs beside the failovers (all of them: --hooks).
        if !failsafe, !runs.isEmpty {
            if runs.count > 20 { print("hooks: the last 20 of \(runs.count) runs (all: --hooks)") }
            for run in runs.suffix(20) { print(Self.line(run)) }
        }
    }

    /// "hook  2026-12-07T…  pg2 on_role_change primary (term 42): succeeded, exit 0 in 0.12s"
    static func line(_ run: HookRun) -> String {
        let started = UTCTime.iso8601(Date(timeIntervalSince1970: Double(run.startedAtMillis) / 1000))
        let term = run.term.map { " (term \($0))" } ?? ""
        let status = run.exitStatus.map { ", exit \($0)" } ?? ""
        return "hook  \(started)  \(run.node) \(run.event.rawValue) \(run.role)\(term): \(run.outcome.rawValue)\(status) in \(String(format: "%.2f", run.seconds))s"
    }
}
