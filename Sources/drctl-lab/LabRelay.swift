import ArgumentParser
import DRCommandLine
import DRCore
import DRLab
import Foundation

/// `drctl-lab relay`: the lab's latency relay as a process, started by the lab inside a
/// region's network namespace (see `LabHosts.startRelay`); runs until SIGTERM.
struct LabRelay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay", abstract: "Forward redirected connections after a delay (the lab's inter-region latency).", shouldDisplay: false)

    @Option(help: "Port to listen on (127.0.0.1).") var port: Int
    @Option(help: "Delay added to each direction, e.g. 20ms.") var oneWay: String
    @Option(help: "Random variation of the delay, e.g. 5ms.") var jitter: String = "0ms"
    @Option(help: "Fraction of chunks that wait one retransmission more, e.g. 0.01.") var loss: Double = 0
    @Option(help: "Firewall mark of the relay's own connections (the redirect skips them).") var mark: Int32 = LabHosts.relayMark

    func run() async throws {
        guard let oneWay = DurationText.parse(oneWay), let jitter = DurationText.parse(jitter) else {
            throw ValidationError("--one-way and --jitter take durations like 20ms")
        }
        let relay = DelayRelay(shape: .init(oneWay: oneWay, jitter: jitter, loss: loss), mark: mark)
        try relay.start(port: port)
        print("relaying on 127.0.0.1:\(relay.port): \(DurationText.format(oneWay)) each way, jitter \(DurationText.format(jitter)), loss \(loss)")
        fflush(nil)
        // Until SIGTERM (the default action ends the process; the kernel closes every socket).
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
