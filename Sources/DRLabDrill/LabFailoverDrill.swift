import DRBackup
import DRCoordination
import DRCore
import DRDrill
import DRLab
import DRPostgres
import Foundation

/// The failover and region-outage drills (and, through `LabRegionActivationDrill`, the
/// region-activation drill): a fault injected into the lab under a write
/// load whose client (libpq multi-host, target_session_attrs=read-write) records every
/// acknowledged commit; measured from the fault to the new primary serving, DNS verified.
public struct LabFailoverDrill: FaultDrill {
    public init() {}

    public func run(_ spec: DrillSpec, runner: DrillRunner, clock: PhaseClock, progress: @Sendable (String) -> Void) async throws -> DrillMeasurement {
        if spec.kind == .regionActivation { return try await LabRegionActivationDrill().run(spec, runner: runner, clock: clock, progress: progress) }
        let config = runner.config, configFile = runner.configFile
        let labDir = URL(fileURLWithPath: configFile).deletingLastPathComponent().path
        let lab = try LabState.load(dir: labDir)
        let etcd = try EtcdCoordinator.forConfig(config)
        guard let leader = try await etcd.leader(), let primary = config.node(named: leader.node) else {
            throw DrillError.notReady("no primary holds the leader key: the lab must be healthy before a drill")
        }
        let historyBefore = try await etcd.history().count
        let nodes = config.nodes.map(\.node)
        let writer =
            "host=\(nodes.map { $0.connection.host }.joined(separator: ",")) port=\(nodes.map { String($0.connection.port) }.joined(separator: ",")) user=postgres dbname=postgres target_session_attrs=read-write connect_timeout=1"
        try await PGConnection.withSession(node: "drill", conninfo: writer) { session in
            _ = try await session.query("CREATE TABLE IF NOT EXISTS drctl_drill_load (id bigint PRIMARY KEY, at timestamptz DEFAULT now())")
        }
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
        try await clock.phase("steady load") { try await Task.sleep(for: .seconds(2)) }

        let faultAt = clock.elapsed, faultInstant = ContinuousClock.now
        let region = primary.region.name
        switch spec.kind {
        case .regionOutage:
            progress("isolating \(region) (primary \(primary.node.name)) from etcd and the other regions")
            try await Lab.isolate(dir: lab.dir, region: region)
        default:
            progress("killing the primary \(primary.node.name) and its agent")
            _ = try await Lab.kill(dir: lab.dir, node: primary.node.name)
        }
        clock.record(spec.kind == .regionOutage ? "fault: \(region) isolated" : "fault: \(primary.node.name) killed", start: faultAt, end: faultAt + 0.01)

        let limit = (spec.rto ?? config.objectives.rto) * 2 + .seconds(30)
        let deadline = ContinuousClock().now + limit
        var evidence: FailoverEvidence?
        while ContinuousClock().now < deadline {
            let history = (try? await etcd.history()) ?? []
            if history.count > historyBefore { evidence = history.last; break }
            try await Task.sleep(for: .milliseconds(200))
        }
        try await Task.sleep(for: .seconds(1))
        load.cancel()
        _ = await load.value
        guard let evidence else { throw DrillError.notReady("no failover happened within \(DurationText.format(limit)) of the fault") }

        var measured = DrillMeasurement()
        // The evidence's events, placed on the drill's clock through the promoting agent's
        // wall clock (one host in the lab).
        if let declaredMillis = evidence.declaredAtMillis, let declared = evidence.events.first(where: { $0.name == "declared failed" || $0.name == "key seen free" }) {
            let origin = clock.offset(ofWallMillis: declaredMillis) - declared.at
            var previous = faultAt
            for event in evidence.events where event.name != "first failed check" {
                let at = origin + event.at
                clock.record(event.name, start: previous, end: max(at, previous))
                previous = max(at, previous)
            }
            measured.rto = previous - faultAt
        }
        let newPrimary = config.node(named: evidence.promoted)?.node
        let firstAck = acks.first(after: faultInstant, from: newPrimary?.connection.host).map { clock.offset(of: $0.at) }
        if let firstAck { clock.record("first write acknowledged by \(evidence.promoted)", start: faultAt, end: firstAck) }

        let acked = acks.ids
        var lost = 0
        var clientWindow: Double?
        if let newPrimary {
            let stored: Set<Int64> = try await PGConnection.withSession(node: newPrimary.name, conninfo: newPrimary.conninfo) { session in
                Set(try await session.query("SELECT id FROM drctl_drill_load").rows.compactMap { Int64(try $0.string("id")) })
            }
            lost = acked.filter { !stored.contains($0) }.count
            clientWindow = acks.lossWindow(survivors: stored).seconds
            measured.validations = await clock.phase("validate") { await ValidationQueries.run(spec.validation, conninfo: newPrimary.conninfo) }
        }
        measured.lostBytes = evidence.dataLostBytes
        // The client's view is the truth: in a partition the agents only know the progress
        // the old primary published before it was cut off, and it kept acknowledging writes
        // until it fenced itself. The RPO is the longer of the two windows.
        if let window = clientWindow {
            measured.rpo = max(window, evidence.dataLostSeconds ?? 0)
        } else {
            measured.rpo = evidence.dataLostSeconds
        }
        measured.notes.append("\(evidence.previousPrimary ?? "?") -> \(evidence.promoted) under term \(evidence.term): \(evidence.reason)")
        measured.notes.append(
            "client: \(acked.count) writes acknowledged, \(lost) of them lost; first write on the new primary \(firstAck.map { String(format: "%.2f s", $0 - faultAt) } ?? "not seen") after the fault")
        measured.notes.append(
            "the agents' evidence: RTO \(String(format: "%.2f", evidence.rtoSeconds)) s from the first failed check, data lost \(evidence.dataLostBytes.map { "\($0) bytes" } ?? "unknown") (as far as the old primary's last published position shows)"
        )
        if lost > 0 {
            measured.notes.append(
                "\(lost) acknowledged writes lost over \(String(format: "%.2f", clientWindow ?? 0)) s: the old primary acknowledged them after it was cut off and before it fenced itself (asynchronous replication; `failover.synchronous: true` prevents this)"
            )
        }
        if spec.kind == .regionOutage {
            try await clock.phase("heal \(region)") { try await Lab.heal(dir: lab.dir, region: region) }
            measured.notes.append("\(region) healed; its old primary stays fenced until `drctl rejoin \(primary.node.name)`")
        }
        return measured
    }
}
