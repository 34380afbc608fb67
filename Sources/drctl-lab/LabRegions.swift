import ArgumentParser
import DRCommandLine
import DRCore
import DRLab
import Foundation

/// `drctl-lab regions`: the benches' tools for regions as hosts — the etcd of a cross-region
/// deployment alone (one member per region namespace, inter-region latency), a probe that
/// times an agent's loop against it, and psql round trips between regions. Hidden: the
/// whole topology is `drctl-lab up --hosts`, and `lab down` takes either.
struct LabRegions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regions", abstract: "Regions as network namespaces with one etcd member each, and inter-region latency.",
        shouldDisplay: false, subcommands: [Up.self, Down.self, Probe.self, RoundTrips.self])

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the region namespaces, their relays and etcd members (root).")
        @Option(help: "Lab directory.") var dir: String = ".lab-regions"
        @Option(help: "Round trip between any two regions, e.g. 40ms (0ms: none).") var latency: String = "0ms"
        @Option(help: "Random variation of the round trip, e.g. 4ms.") var jitter: String = "0ms"
        @Option(help: "Fraction of chunks that cost a retransmission, e.g. 0.01.") var loss: Double = 0
        @Flag(help: "Also a primary in region1 and its streaming standby in region2.") var databases = false
        @Flag(help: "Also an agent beside each database (implies --databases); DIR/drctl.yaml is their config.") var agents = false

        func run() async throws {
            guard let latency = DurationText.parse(latency), let jitter = DurationText.parse(jitter) else {
                throw ValidationError("--latency and --jitter take durations like 40ms")
            }
            let binary = CommandMain.beside("drctl")
            let lab = try await labOperation {
                try await RegionHostsLab.up(
                    dir: absolute(dir), binary: binary, latency: latency, jitter: jitter, loss: loss, databases: databases, agents: agents,
                    progress: printProgress)
            }
            print("etcd endpoints from region1: \(lab.endpoints().joined(separator: ","))")
            print("run a command in a region: ip netns exec \(lab.namespace("region1") ?? "") COMMAND")
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop everything the regions lab started and remove its namespaces.")
        @Option(help: "Lab directory.") var dir: String = ".lab-regions"
        func run() async throws { try await labOperation { try await RegionHostsLab.down(dir: absolute(dir)) } }
    }

    struct Probe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the cluster and renew a lease every interval, as a leader's agent does; print the timings as JSON.")
        @Option(help: "etcd client URLs, comma-separated, the local one first.") var endpoints: String
        @Option(help: "Lease TTL.") var ttl: String = "10s"
        @Option(help: "Loop interval.") var every: String = "100ms"
        @Option(help: "How long to probe.") var duration: String = "10s"
        @Option(help: "The gateway's connect time-out (requests get twice as long).") var timeout: String = "1s"

        func run() async throws {
            guard let ttl = DurationText.parse(ttl), let every = DurationText.parse(every), let duration = DurationText.parse(duration),
                let timeout = DurationText.parse(timeout)
            else { throw ValidationError("--ttl, --every, --duration and --timeout take durations like 100ms") }
            let probe = EtcdLoopProbe(endpoints: endpoints.split(separator: ",").map(String.init), ttl: ttl, every: every, timeout: timeout)
            let report = try await probe.run(for: duration)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
    }
}

extension LabRegions {
    struct RoundTrips: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "round-trips", abstract: "Time SELECT 1 on one psql session from a region to a database; print milliseconds as JSON.")
        @Option(help: "Lab directory.") var dir: String = ".lab-regions"
        @Option(help: "The region the client runs in.") var from: String = "region2"
        @Option(help: "The database: pg1 or pg2.") var to: String = "pg1"
        @Option(help: "How many round trips.") var count: Int = 20

        func run() async throws {
            let lab = try loadRegionsLab(dir)
            guard let database = lab.databases.first(where: { $0.name == to }) else {
                throw ValidationError("no database \(to) in \(dir): start the lab with --databases")
            }
            let millis = try await labOperation { try await lab.queryRoundTrips(from: from, to: database, count: count) }
            print(String(decoding: try JSONEncoder().encode(millis), as: UTF8.self))
        }
    }
}

/// The regions lab recorded in `dir`.
private func loadRegionsLab(_ dir: String) throws -> RegionHostsLab {
    do { return try RegionHostsLab.load(dir: absolute(dir)) } catch let error as LabError { throw CLIExit.failed(error.description) }
}

/// `path` made absolute against the working directory.
private func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}
