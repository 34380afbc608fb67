import DRBackup
import DRCoordination
import DRCore
import DRDrill
import DRLab
import DRPostgres
import DRSystem
import Foundation

/// The complete disaster, measured: under a write load, region1 and region2 (every
/// database and agent) are killed, and `drctl region activate region3` builds the primary
/// in the cold region from the newest base backup and the WAL archive. The RTO runs from
/// the fault to DNS pointing at the new primary, with the activation started at once (an
/// operator's reaction time comes on top); the RPO is the client's: acknowledged writes the
/// archive did not hold. The lab is left with region3 as its primary.
struct LabRegionActivationDrill {
    func run(_ spec: DrillSpec, runner: DrillRunner, clock: PhaseClock, progress: @Sendable (String) -> Void) async throws -> DrillMeasurement {
        let configFile = runner.configFile
        let labDir = URL(fileURLWithPath: configFile).deletingLastPathComponent().path
        let lab = try LabState.load(dir: labDir)
        let etcd = try EtcdCoordinator.forConfig(runner.config)
        guard let leader = try await etcd.leader(), let primary = lab.nodes.first(where: { $0.name == leader.node }) else {
            throw DrillError.notReady("no primary holds the leader key: the lab must be healthy before a drill")
        }
        let admin = "host=\(primary.host) port=\(primary.port) user=postgres dbname=postgres"
        // A segment is archived once full or after archive_timeout: production sets one (say
        // 60 s) to bound what a lost primary takes with it; the drill uses 1 s.
        try await PGConnection.withSession(node: primary.name, conninfo: admin) { session in
            _ = try await session.query("ALTER SYSTEM SET archive_timeout = '1s'")
            _ = try await session.query("SELECT pg_reload_conf()")
            _ = try await session.query("CREATE TABLE IF NOT EXISTS drctl_drill_load (id bigint PRIMARY KEY, at timestamptz DEFAULT now())")
        }
        try await clock.phase("base backup") {
            let backup = try await CommandRunner.run([runner.drctl, "backup", "run", "--kind", "base", "--config", configFile], check: false)
            guard backup.status == 0 else { throw DrillError.notReady("the base backup the activation starts from failed: \(backup.stderr)") }
        }
        let cold = try await clock.phase("cold node and region3's agent") { try await Lab.addColdNode(dir: lab.dir, binary: runner.drctl) }
        progress("region3 has a node (\(cold.name) on \(cold.host):\(cold.port), empty) and its agent runs")

        let hosts = lab.nodes.filter { $0.region != "region3" } + [cold]
        let writer =
            "host=\(hosts.map(\.host).joined(separator: ",")) port=\(hosts.map { String($0.port) }.joined(separator: ",")) user=postgres dbname=postgres target_session_attrs=read-write connect_timeout=1"
        let acks = AcknowledgedWrites()
        let load = Task {
            var id = Int64(Date().timeIntervalSince1970 * 1000) * 1000
            while !Task.isCancelled {
                id += 1
                let server = try? await PGConnection.withSession(node: "drill", conninfo: writer, connectTimeout: .seconds(1)) { session in
                    try await session.query("INSERT INTO drctl_drill_load (id) VALUES ($1) RETURNING host(inet_server_addr()) AS s", [String(id)]).single().string("s")
                }
                if let server { acks.add(id, server: server) }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { load.cancel() }
        try await clock.phase("steady load") { try await Task.sleep(for: .seconds(3)) }

        let faultAt = clock.elapsed, faultInstant = ContinuousClock.now
        progress("killing region1 and region2: every database and agent")
        for node in lab.nodes where node.region != "region3" { _ = try await Lab.kill(dir: lab.dir, node: node.name) }
        clock.record("fault: region1 and region2 lost", start: faultAt, end: faultAt + 0.01)

        progress("drctl region activate region3")
        let activation = try await CommandRunner.run(
            [runner.drctl, "region", "activate", "region3", "--yes", "--wait", "60s", "--config", configFile], check: false)
        try await Task.sleep(for: .seconds(1))
        load.cancel()
        _ = await load.value
        guard activation.status == 0 else { throw DrillError.notReady("region activate failed: \(activation.stdout)\(activation.stderr)") }
        let evidence = try await etcd.history().last { $0.promoted == cold.name && $0.reason.contains("region region3 activated") }
        guard let evidence, let declared = evidence.declaredAtMillis else { throw DrillError.notReady("the activation left no record in the history") }

        var measured = DrillMeasurement()
        let origin = clock.offset(ofWallMillis: declared)
        clock.record("key of the lost primary expires, activation starts", start: faultAt, end: max(origin, faultAt))
        var previous = max(origin, faultAt)
        for event in evidence.events where event.at > 0 {
            let at = max(origin + event.at, previous)
            clock.record(event.name, start: previous, end: at)
            previous = at
        }
        measured.rto = previous - faultAt
        let conninfo = "host=\(cold.host) port=\(cold.port) user=postgres dbname=postgres"
        let stored: Set<Int64> = try await PGConnection.withSession(node: cold.name, conninfo: conninfo) { session in
            Set(try await session.query("SELECT id FROM drctl_drill_load").rows.compactMap { Int64(try $0.string("id")) })
        }
        let acked = acks.ids
        let lost = acked.filter { !stored.contains($0) }.count
        measured.rpo = acks.lossWindow(survivors: stored).seconds
        if let firstAck = acks.first(after: faultInstant, from: cold.host).map({ clock.offset(of: $0.at) }) {
            clock.record("first write acknowledged by \(cold.name)", start: faultAt, end: firstAck)
        }
        measured.validations = await clock.phase("validate") { await ValidationQueries.run(spec.validation, conninfo: conninfo) }
        measured.notes.append("region1 and region2 killed; \(cold.name) restored in region3: \(evidence.reason)")
        measured.notes.append(
            "client: \(acked.count) writes acknowledged, \(lost) of them not in the archive (archive_timeout 1 s on the lost primary); the RTO counts from the fault with the activation started at once: an operator's reaction time comes on top"
        )
        measured.notes.append("the lab now runs with \(cold.name) (region3) as its primary; `drctl-lab down` and `lab up` give a fresh one")
        return measured
    }
}
