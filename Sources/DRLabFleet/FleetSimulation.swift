import DRCore
import DRLab
import DRSystem
import Foundation
import Logging

/// `drctl-lab fleet`: N clusters' real agents over scripted databases against a real
/// 3-member etcd on this machine, each cluster under its own prefix; while they run, one
/// cluster's primary at a time is lost and that cluster's failover timed, with etcd's commit
/// latency and CPU from its own metrics. Repeated for growing N until this machine saturates.
public struct FleetSimulation: Sendable {
    /// Cluster counts to run, in order.
    public var sizes: [Int]
    /// Primaries lost at each size (each in another cluster, one at a time).
    public var kills: Int
    /// Steady state measured before the first loss.
    public var steady: Duration
    /// Where etcd's members and the agents' state live (removed at the end).
    public var dir: String

    public init(sizes: [Int], kills: Int = 5, steady: Duration = .seconds(10), dir: String) {
        self.sizes = sizes
        self.kills = kills
        self.steady = steady
        self.dir = dir
    }

    /// One size's figures.
    public struct Point: Sendable, Codable, Equatable {
        public var clusters: Int
        public var agents: Int
        /// Seconds from losing a primary's host to another server accepting writes, per loss.
        public var failoverSeconds: [Double]
        /// Losses after which no other server took over within the limit.
        public var failoversMissed: Int
        /// etcd in steady state: requests (gRPC calls handled) and key-value writes (revisions) a second.
        public var etcdRequestsPerSecond: Double
        public var etcdWritesPerSecond: Double
        /// etcd's backend commit and WAL fsync latency over the whole run of this size, milliseconds.
        public var commitP50Millis: Double?
        public var commitP99Millis: Double?
        public var fsyncP99Millis: Double?
        /// CPU over the whole run of this size, in cores: etcd's members together, this
        /// process (the agents), and the whole machine's busy share of its cores.
        public var etcdCores: Double
        public var simulatorCores: Double
        public var machineBusy: Double
        /// Clusters that had not settled (a primary and two streaming standbys) in time.
        public var unsettled: Int

        public var medianFailover: Double? {
            guard !failoverSeconds.isEmpty else { return nil }
            let sorted = failoverSeconds.sorted()
            return sorted[sorted.count / 2]
        }
    }

    /// Runs every size in turn; `report` gets each point as it is measured. Stops early once
    /// the machine saturates (`saturated`).
    public func run(log: Logger, report: @Sendable (Point) -> Void) async throws -> [Point] {
        let members = try etcdMembers()
        try await EtcdServer.start(members)
        defer { for member in members { if let pid = member.pid { kill(pid, SIGKILL) } } }
        let endpoints = members.map(\.endpoint)
        var points: [Point] = []
        for (run, size) in sizes.enumerated() {
            let point = try await measure(size: size, run: run, endpoints: endpoints, log: log)
            points.append(point)
            report(point)
            if Self.saturated(point, first: points[0]) { break }
        }
        return points
    }

    /// Whether this machine ran out at `point`: its cores 90 % busy (what etcd answers then
    /// no longer grows with the fleet), etcd answering a quarter fewer requests per cluster
    /// than at the smallest count, or clusters that did not settle.
    public static func saturated(_ point: Point, first: Point) -> Bool {
        let perCluster = point.etcdRequestsPerSecond / Double(point.clusters)
        let baseline = first.etcdRequestsPerSecond / Double(first.clusters)
        return point.machineBusy >= 0.9 || point.unsettled > 0 || perCluster < 0.75 * baseline
    }

    func etcdMembers() throws -> [EtcdServer] {
        var taken = Set<Int>()
        func port() throws -> Int {
            let chosen = try PortAllocator.freePort(avoiding: taken)
            taken.insert(chosen)
            return chosen
        }
        let members = try (1...3).map { index in
            try FileManager.default.createDirectory(atPath: "\(dir)/etcd/e\(index)", withIntermediateDirectories: true)
            return EtcdServer(
                host: "127.0.0.1", clientPort: try port(), peerPort: try port(), dataDir: "\(dir)/etcd/e\(index)/data",
                logFile: "\(dir)/etcd/e\(index)/etcd.log", pidFile: "\(dir)/etcd/e\(index)/etcd.pid")
        }
        // etcd's own timing (100 ms heartbeat, 1 s election), as production runs it.
        return EtcdServer.cluster(members).map { member in
            var copy = member
            copy.heartbeatMillis = 100
            copy.electionMillis = 1000
            return copy
        }
    }

    func measure(size: Int, run: Int, endpoints: [String], log: Logger) async throws -> Point {
        let prefix = "/drctl/fleet-\(run)/"
        let clusters = try (0..<size).map { index in
            try FleetCluster(name: String(format: "c%03d", index), endpoints: endpoints, prefix: prefix, stateRoot: "\(dir)/state-\(run)")
        }
        let world = Task {
            // Primaries write and standbys receive every 50 ms, as in the agent tests.
            while !Task.isCancelled {
                for cluster in clusters { cluster.servers.step() }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        let startCPU = CPUTimes.now()
        let start = await EtcdMetricsSample.take(endpoints)
        for cluster in clusters { try cluster.start(log: log) }
        let settleBy = ContinuousClock.now + .seconds(30 + size / 5)
        while clusters.contains(where: { !$0.settled }), ContinuousClock.now < settleBy { try await Task.sleep(for: .milliseconds(250)) }
        let unsettled = clusters.filter { !$0.settled }.count

        let steadyStart = await EtcdMetricsSample.take(endpoints)
        try await Task.sleep(for: steady)
        let steadyEnd = await EtcdMetricsSample.take(endpoints)

        var failovers: [Double] = []
        var missed = 0
        for index in 0..<kills where unsettled == 0 {
            // Spread over the fleet (the first, the middle, ...); a fleet smaller than the
            // losses loses the same cluster again once it has settled.
            let cluster = clusters[(index * max(1, clusters.count / max(1, kills))) % clusters.count]
            let lostAt = ContinuousClock.now
            guard let lost = await cluster.losePrimary() else { continue }
            let limit = lostAt + .seconds(30)
            while ContinuousClock.now < limit {
                if let primary = cluster.primary, primary != lost { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            if let primary = cluster.primary, primary != lost {
                let taken = ContinuousClock.now - lostAt
                failovers.append(Double(taken.components.seconds) + Double(taken.components.attoseconds) / 1e18)
            } else {
                missed += 1
            }
            // The host comes back and rejoins as a standby (auto_rejoin) before the next loss.
            try cluster.restoreHost(lost, log: log)
            let settledBy = ContinuousClock.now + .seconds(30)
            while !cluster.settled, ContinuousClock.now < settledBy { try await Task.sleep(for: .milliseconds(100)) }
            // A few loops more: a leader lost before its first progress after the promotion
            // leaves an unknown loss, and rightly nobody is promoted then (the RPO gate).
            try await Task.sleep(for: .seconds(3))
        }
        let end = await EtcdMetricsSample.take(endpoints)
        let endCPU = CPUTimes.now()
        world.cancel()
        for cluster in clusters { await cluster.stop() }
        await world.value
        let wall = endCPU.wall - startCPU.wall
        return Point(
            clusters: size, agents: size * FleetCluster.nodes.count, failoverSeconds: failovers, failoversMissed: missed,
            etcdRequestsPerSecond: steadyEnd.rate("grpc_server_handled_total", since: steadyStart),
            // Every write transaction is one revision; each member reports the same one.
            etcdWritesPerSecond: steadyEnd.rate("etcd_debugging_mvcc_current_revision", since: steadyStart) / Double(endpoints.count),
            commitP50Millis: end.quantile(0.5, of: "etcd_disk_backend_commit_duration_seconds", since: start).map { $0 * 1000 },
            commitP99Millis: end.quantile(0.99, of: "etcd_disk_backend_commit_duration_seconds", since: start).map { $0 * 1000 },
            fsyncP99Millis: end.quantile(0.99, of: "etcd_disk_wal_fsync_duration_seconds", since: start).map { $0 * 1000 },
            etcdCores: end.rate("process_cpu_seconds_total", since: start),
            simulatorCores: wall > 0 ? (endCPU.process - startCPU.process) / wall : 0,
            machineBusy: endCPU.machineBusy(since: startCPU), unsettled: unsettled)
    }
}

/// CPU seconds of this process and of the whole machine, and the wall clock, at one moment.
struct CPUTimes {
    var wall: Double
    var process: Double
    /// From /proc/stat: busy and total jiffies over every core.
    var busyJiffies: Double
    var totalJiffies: Double

    static func now() -> CPUTimes {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let process = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        var busy = 0.0
        var total = 0.0
        if let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8), let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) {
            let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            total = fields.reduce(0, +)
            // idle and iowait are the 4th and 5th fields.
            busy = total - (fields.count > 4 ? fields[3] + fields[4] : 0)
        }
        return CPUTimes(wall: Date().timeIntervalSince1970, process: process, busyJiffies: busy, totalJiffies: total)
    }

    func machineBusy(since earlier: CPUTimes) -> Double {
        let total = totalJiffies - earlier.totalJiffies
        return total > 0 ? (busyJiffies - earlier.busyJiffies) / total : 0
    }
}
