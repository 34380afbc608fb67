import ArgumentParser
import DRCommandLine
import DRCore
import DRLabFleet
import Foundation
import Logging

struct LabFleet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Many clusters on one etcd: real agents over scripted databases against a 3-member etcd, primaries lost one at a time.",
        discussion: """
            Each cluster is three real agents at the production defaults (1 s loop, 5 s lease) over the scripted \
            databases the agent tests use, under a prefix of its own. For each count of clusters: settle, measure \
            steady state, then lose one cluster's primary host at a time and time its failover (the host comes \
            back and rejoins before the next loss). Prints failover \
            time, etcd's requests, writes, commit latency and CPU, and this machine's CPU; stops growing the fleet \
            once this machine saturates. docs/fleet.md has the figures.
            """)

    @Option(name: .long, help: "Cluster counts to run, in order, comma-separated.")
    var clusters: String = "1,10,50,100"

    @Option(name: .long, help: "Primaries lost at each count, one at a time (each host comes back and rejoins before the next).")
    var kills: Int = 5

    @Option(name: .long, help: "Steady state measured before the first loss, e.g. 10s.")
    var steady: String = "10s"

    @Option(name: .long, help: "Directory for etcd's members and the agents' state (removed afterwards).")
    var dir: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    @Flag(name: .long, help: "The agents' logs on standard error (one line per decision worth logging).")
    var verbose = false

    func run() async throws {
        let sizes = clusters.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--clusters: positive counts, e.g. 1,10,50") }
        guard let steadyFor = DurationText.parse(steady) else { throw ValidationError("--steady: a duration, e.g. 10s") }
        let root = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("drctl-fleet-\(getpid())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: root) } }
        // Hundreds of agents' logs would drown the table; what each did shows in etcd.
        var log = Logger(label: "drctl.fleet", factory: { label in verbose ? StreamLogHandler.standardError(label: label) as any LogHandler : SwiftLogNoOpLogHandler() })
        log.logLevel = .info
        let simulation = FleetSimulation(sizes: sizes, kills: kills, steady: steadyFor, dir: root)
        if !json {
            print("fleet: 3 agents per cluster (1 s loop, 5 s lease, scripted databases), 3-member etcd on loopback, \(kills) primaries lost per count")
            print(Self.header)
            fflush(nil)
        }
        let points = try await simulation.run(log: log) { point in
            guard !json else { return }
            print(Self.row(point))
            fflush(nil)
        }
        if json { try JSONOutput.print(points) } else if let last = points.last { print(Self.verdict(points, last: last)) }
    }

    static let columns = [
        "CLUSTERS", "AGENTS", "FAILOVER MEDIAN", "MIN-MAX", "MISSED", "ETCD REQ/S", "WRITES/S", "COMMIT P50/P99", "FSYNC P99", "ETCD CORES",
        "AGENTS CORES", "MACHINE BUSY",
    ]
    static let widths = [8, 6, 15, 11, 6, 10, 8, 16, 9, 10, 12, 12]

    static var header: String { line(columns) }

    static func line(_ cells: [String]) -> String {
        zip(cells, widths).map { cell, width in String(repeating: " ", count: max(0, width - cell.count)) + cell }.joined(separator: "  ")
    }

    static func row(_ point: FleetSimulation.Point) -> String {
        func f(_ value: Double?, _ digits: Int = 1) -> String { value.map { String(format: "%.\(digits)f", $0) } ?? "-" }
        let range = point.failoverSeconds.isEmpty ? "-" : "\(f(point.failoverSeconds.min()))-\(f(point.failoverSeconds.max())) s"
        return line([
            "\(point.clusters)", "\(point.agents)", point.medianFailover.map { "\(f($0)) s" } ?? "-", range, "\(point.failoversMissed)",
            f(point.etcdRequestsPerSecond, 0), f(point.etcdWritesPerSecond), "\(f(point.commitP50Millis))/\(f(point.commitP99Millis)) ms",
            "\(f(point.fsyncP99Millis)) ms", f(point.etcdCores, 2), f(point.simulatorCores, 2), "\(f(point.machineBusy * 100, 0)) %",
        ])
    }

    /// Which resource ran out, from the last count run.
    static func verdict(_ points: [FleetSimulation.Point], last: FleetSimulation.Point) -> String {
        guard let first = points.first, FleetSimulation.saturated(last, first: first) else {
            return "this machine did not saturate up to \(last.clusters) clusters"
        }
        if last.unsettled > 0 { return "at \(last.clusters) clusters, \(last.unsettled) did not settle in time: the fleet outgrew this machine" }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let perCluster = last.etcdRequestsPerSecond / Double(last.clusters)
        let baseline = first.etcdRequestsPerSecond / Double(first.clusters)
        return String(
            format: "at %d clusters this machine's %d cores ran out (%.0f %% busy: etcd's members %.2f cores, the agents %.2f): etcd answered %.1f requests a second per cluster against %.1f at %d",
            last.clusters, cores, last.machineBusy * 100, last.etcdCores, last.simulatorCores, perCluster, baseline, first.clusters)
    }
}
