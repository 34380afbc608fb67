import DRCore
import DRLab
import DRPostgres
import Foundation

/// The campaign's clients: one writes through libpq multi-host (`target_session_attrs=
/// read-write`, as an application would), one writes to each node directly (as clients
/// inside a region do, even when it is cut off). Every acknowledged commit is recorded with
/// the node, timeline and WAL position that committed it and when it was sent and acknowledged.
final class ChaosWorkload: @unchecked Sendable {
    static let table = "drctl_chaos_writes"

    private let lock = NSLock()
    private var acks: [ChaosChecker.Ack] = []
    private var unconfirmedIDs: [Int64] = []
    private var nextID: Int64 = 0
    private let started: ContinuousClock.Instant
    private var writers: [Task<Void, Never>] = []
    /// Which node answers on which port.
    private let nodes: [Int: String]

    init(lab: LabState, started: ContinuousClock.Instant) {
        self.started = started
        nodes = Dictionary(uniqueKeysWithValues: lab.nodes.map { ($0.port, $0.name) })
    }

    var acknowledged: [ChaosChecker.Ack] { lock.withLock { acks } }
    /// Commits PostgreSQL returned with its warning that they "might not have been
    /// replicated" (the wait for a synchronous standby was cancelled): not acknowledged as
    /// durable, so never counted.
    var unconfirmed: [Int64] { lock.withLock { unconfirmedIDs } }

    private var elapsed: Double { (ContinuousClock.now - started).seconds }

    private func newID() -> Int64 {
        lock.withLock {
            nextID += 1
            return nextID
        }
    }

    /// Creates the table on the primary and starts the writers.
    func start(_ lab: LabState) async throws {
        let all = Self.anyPrimary(lab)
        try await PGConnection.withSession(node: "chaos", conninfo: all) { session in
            _ = try await session.query("CREATE TABLE IF NOT EXISTS \(Self.table) (id bigint PRIMARY KEY)")
        }
        let targets = [all] + lab.nodes.map { "host=\($0.host) port=\($0.port) user=postgres dbname=postgres" }
        writers = targets.map { conninfo in Task { await self.write(conninfo) } }
    }

    func stop() async {
        for writer in writers { writer.cancel() }
        for writer in writers { await writer.value }
    }

    /// Writes every 20 ms until cancelled, reconnecting after any error; only commits that
    /// come back count.
    private func write(_ conninfo: String) async {
        while !Task.isCancelled {
            _ = try? await PGConnection.withSession(
                node: "chaos", conninfo: conninfo + " connect_timeout=1", connectTimeout: .seconds(1),
                statementTimeout: .seconds(2)
            ) { session in
                while !Task.isCancelled {
                    let id = newID(), sentAt = elapsed
                    let result = try await session.query(
                        "INSERT INTO \(Self.table) VALUES ($1) RETURNING inet_server_port() AS port, substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) AS tl, pg_current_wal_lsn()::text AS lsn",
                        [String(id)]
                    )
                    let row = try result.single()
                    if result.notices.contains(where: { $0.contains("might not have been replicated") }) {
                        lock.withLock { unconfirmedIDs.append(id) }
                        continue
                    }
                    let ackedAt = elapsed
                    let port = Int(try row.string("port")) ?? 0
                    let timeline = Int(try row.string("tl"), radix: 16) ?? 0
                    let lsn = LSN(try row.string("lsn"))
                    lock.withLock {
                        acks.append(ChaosChecker.Ack(id: id, node: nodes[port] ?? "port \(port)", timeline: timeline, sentAt: sentAt, ackedAt: ackedAt, lsn: lsn))
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                return true
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Every node through libpq multi-host: whichever accepts writes, as an application finds it.
    static func anyPrimary(_ lab: LabState) -> String {
        "host=\(lab.nodes.map(\.host).joined(separator: ",")) port=\(lab.nodes.map { String($0.port) }.joined(separator: ","))"
            + " user=postgres dbname=postgres target_session_attrs=read-write"
    }

    /// The ids the primary holds now.
    static func survivors(_ lab: LabState) async throws -> Set<Int64> {
        return try await PGConnection.withSession(node: "chaos", conninfo: anyPrimary(lab) + " connect_timeout=2", statementTimeout: .seconds(30)) { session in
            Set(try await session.query("SELECT id FROM \(table)").rows.compactMap { Int64(try $0.string("id")) })
        }
    }
}
