import ArgumentParser
import DRCommandLine
import DRCoordination
import DRCore
import Foundation

struct SwitchoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchover",
        abstract: "Planned change of primary with zero data loss: the agents stop the primary cleanly, the target takes over once it has all its WAL, DNS follows.")

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "The standby to promote.")
    var to: String

    @Option(name: .long, help: "Not before this time (ISO 8601, e.g. 2026-11-23T03:00:00Z); default now.")
    var at: String?

    @Option(name: .long, help: "Refuse when the target's replication lag is beyond this (e.g. 5s); default the RPO.")
    var maxLag: String?

    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let (config, etcd) = try Intents.coordinator(options)
        guard config.node(named: to) != nil else {
            throw CLIExit.badInput("--to: no node named \"\(to)\" (nodes: \(config.nodes.map(\.node.name).joined(separator: ", ")))")
        }
        var notBefore: Int64?
        if let at {
            guard let date = UTCTime.parse(at) else { throw CLIExit.badInput("--at: expected an ISO 8601 time like 2026-11-23T03:00:00Z, found \"\(at)\"") }
            notBefore = Int64(date.timeIntervalSince1970 * 1000)
        }
        var lagLimit = config.objectives.rpo
        if let maxLag {
            guard let parsed = DurationText.parse(maxLag) else { throw CLIExit.badInput("--max-lag: expected a duration like 5s, found \"\(maxLag)\"") }
            lagLimit = parsed
        }
        var leader: LeaderRecord?
        var refusal: String?
        // The agents publish what they see once per loop: a target that just became a
        // healthy standby may take a loop or two to show it, so those refusals are re-checked briefly.
        let patience = ContinuousClock().now + config.health.interval * 4 + .seconds(1)
        repeat {
            do {
                leader = try await etcd.leader()
                refusal = SwitchoverCheck.refusal(
                    to: to, leader: leader, members: try await etcd.members(), primaryProgress: try await etcd.progress(), paused: try await etcd.isPaused(),
                    failoverPending: try await etcd.failoverIntent() != nil, switchoverPending: try await etcd.switchoverIntent() != nil, lagLimit: lagLimit)
            } catch {
                throw CLIExit.failed("cannot read the cluster from etcd: \(error)")
            }
            guard let text = refusal, text.contains("healthy standby") || text.contains("not streaming") || text.contains("behind the primary"),
                ContinuousClock().now < patience
            else { break }
            try await Task.sleep(for: config.health.interval)
        } while true
        if let refusal { throw CLIExit.failed("switchover refused: \(refusal); nothing was changed") }
        let from = leader?.node ?? "?"
        let plan = """
            switchover \(from) -> \(to)\(at.map { " at \($0)" } ?? " now"):
              1. \(from)'s agent stops it cleanly (a fast shutdown sends all its WAL to the standbys) and releases the leader key
              2. \(to)'s agent takes the key once it has received that WAL (zero data loss by LSN) and promotes
              3. DNS records move to \(to); \(from) rejoins as a standby of \(to)
            """
        guard try change.proceed(plan, question: "Switch over from \(from) to \(to)?", cluster: config.cluster) else { return }
        do {
            try await etcd.setSwitchoverIntent(SwitchoverIntent(to: to, notBeforeMillis: notBefore, requestedAtMillis: Int64(Date().timeIntervalSince1970 * 1000)))
        } catch {
            throw CLIExit.failed("\(error)")
        }
        print("switchover requested; follow it with `drctl status` and `drctl history`")
    }
}
