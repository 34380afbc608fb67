import ArgumentParser
import DRCoordination
import DRCore

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Past failovers with their timelines, measured RTO and data lost.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let (_, config) = try options.loadConfig()
        let history: [FailoverEvidence]
        do {
            let etcd = try EtcdCoordinator.forConfig(config)
            await ForcedHistory.flush(etcd, cluster: config.cluster)
            history = try await etcd.history()
        } catch {
            throw CLIExit.failed("cannot read the history from etcd: \(error)")
        }
        if options.json { return try JSONOutput.print(history) }
        if history.isEmpty { return print("no failovers recorded for cluster \(config.cluster)") }
        for entry in history {
            let lost = entry.dataLostBytes.map { "\($0) bytes" } ?? "unknown"
            print(
                "term \(entry.term)  \(entry.finishedAt)  \(entry.previousPrimary ?? "?") -> \(entry.promoted)  RTO \(String(format: "%.2f", entry.rtoSeconds))s  data lost \(lost)  (\(entry.reason))")
            print("  " + entry.events.map { "\($0.name) +\(String(format: "%.2f", $0.at))s" }.joined(separator: ", "))
        }
    }
}
