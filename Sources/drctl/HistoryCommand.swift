import ArgumentParser
import DRCoordination
import DRCore
import Foundation

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Past failovers with their timelines, measured RTO and data lost, and the stretches the leader ran without etcd (failsafe).")

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Only the failsafe episodes (with --json: their array instead of the failovers').")
    var failsafe = false

    func run() async throws {
        let (_, config) = try options.loadConfig()
        let history: [FailoverEvidence]
        let episodes: [FailsafeEpisode]
        do {
            let etcd = try EtcdCoordinator.forConfig(config)
            await ForcedHistory.flush(etcd, cluster: config.cluster)
            history = try await etcd.history()
            episodes = try await etcd.failsafeEpisodes()
        } catch {
            throw CLIExit.failed("cannot read the history from etcd: \(error)")
        }
        if options.json { return failsafe ? try JSONOutput.print(episodes) : try JSONOutput.print(history) }
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
            let started = Date(timeIntervalSince1970: Double(episode.startedAtMillis) / 1000).formatted(.iso8601)
            print(
                "failsafe  \(started)  \(episode.leader) (term \(episode.term)) writable without etcd for \(String(format: "%.1f", episode.seconds))s, "
                    + "confirmed by \(episode.confirmedBy.isEmpty ? "no other member" : episode.confirmedBy.joined(separator: ", ")) in \(episode.rounds) rounds; \(episode.outcome)")
        }
    }
}
