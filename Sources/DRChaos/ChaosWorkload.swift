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
    /// Which node answers on which port, and at which address and port.
    private let nodes: [Int: String]
    private let byAddress: [String: String]

    /// Which node answers at which address and port.
    private let endpoints: [ChaosNode]

    init(nodes: [ChaosNode], started: ContinuousClock.Instant) {
        self.started = started
        endpoints = nodes
        // Ports tell the loopback lab's nodes apart; the regions lab's share 5432, one per host.
        self.nodes = Dictionary(nodes.map { ($0.port, $0.name) }, uniquingKeysWith: { first, _ in first })
        byAddress = Dictionary(nodes.map { ("\($0.host):\($0.port)", $0.name) }, uniquingKeysWith: { first, _ in first })
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
    func start() async throws {
        let all = Self.anyPrimary(endpoints)
        try await PGConnection.withSession(node: "chaos", conninfo: all) { session in
            _ = try await session.query("CREATE TABLE IF NOT EXISTS \(Self.table) (id bigint PRIMARY KEY)")
        }
        let targets = [all] + endpoints.map { "host=\($0.host) port=\($0.port) user=postgres dbname=postgres" }
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
                        "INSERT INTO \(Self.table) VALUES ($1) RETURNING inet_server_port() AS port, host(inet_server_addr()) AS addr, substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) AS tl, pg_current_wal_lsn()::text AS lsn",
                        [String(id)]
                    )
                    let row = try result.single()
                    if result.notices.contains(where: { $0.contains("might not have been replicated") }) {
                        lock.withLock { unconfirmedIDs.append(id) }
                        continue
                    }
                    let ackedAt = elapsed
                    let port = Int(try row.string("port")) ?? 0
                    let node = byAddress["\(try row.string("addr")):\(port)"] ?? nodes[port] ?? "port \(port)"
                    let timeline = Int(try row.string("tl"), radix: 16) ?? 0
                    let lsn = LSN(try row.string("lsn"))
                    lock.withLock {
                        acks.append(ChaosChecker.Ack(id: id, node: node, timeline: timeline, sentAt: sentAt, ackedAt: ackedAt, lsn: lsn))
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                return true
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Every node through libpq multi-host: whichever accepts writes, as an application finds it.
    static func anyPrimary(_ nodes: [ChaosNode]) -> String {
        "host=\(nodes.map(\.host).joined(separator: ",")) port=\(nodes.map { String($0.port) }.joined(separator: ","))"
            + " user=postgres dbname=postgres target_session_attrs=read-write"
    }

    /// The ids the primary holds now. Each node is asked in turn rather than through libpq's
    /// multi-host list: on the regions lab a relay accepts a connection for a node that is
    /// down and then closes it, after which libpq tries no further host.
    static func survivors(_ nodes: [ChaosNode]) async throws -> Set<Int64> {
        var lastError: (any Error)?
        for node in nodes {
            let conninfo = "host=\(node.host) port=\(node.port) user=postgres dbname=postgres connect_timeout=2"
            do {
                let ids = try await PGConnection.withSession(node: node.name, conninfo: conninfo, statementTimeout: .seconds(30)) { session -> Set<Int64>? in
                    guard try await session.query("SELECT pg_is_in_recovery()::text AS r").single().string("r") == "false" else { return nil }
                    return Set(try await session.query("SELECT id FROM \(table)").rows.compactMap { Int64(try $0.string("id")) })
                }
                if let ids { return ids }
            } catch {
                lastError = error
            }
        }
        throw lastError ?? ChaosWorkloadError.noPrimary
    }
}

enum ChaosWorkloadError: Error, CustomStringConvertible {
    case noPrimary
    var description: String { "no node accepts writes" }
}
