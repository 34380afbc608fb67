import DRCore
import DRPostgres
import Foundation

/// The write load of a drill on a real cluster: one row every 20 ms into a probe table the
/// drill creates (and drops afterwards), through a libpq multi-host connection that finds
/// whichever node is writable; every acknowledged commit is recorded, with the server that
/// acknowledged it, so what the client lost is measured rather than estimated.
final class ProbeLoad: Sendable {
    static let table = "drctl_drill_probe"

    let acks: AcknowledgedWrites
    let conninfo: String
    private let task: Task<Void, Never>

    private init(conninfo: String, acks: AcknowledgedWrites) {
        self.conninfo = conninfo
        self.acks = acks
        task = Task {
            var id = Int64(Date().timeIntervalSince1970 * 1000) * 1000
            while !Task.isCancelled {
                id += 1
                let server = try? await PGConnection.withSession(node: "drill", conninfo: conninfo, connectTimeout: .seconds(1)) { session in
                    try await session.query("INSERT INTO \(ProbeLoad.table) (id) VALUES ($1) RETURNING host(inet_server_addr()) AS s", [String(id)]).single()
                        .string("s")
                }
                if let server { acks.add(id, server: server) }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Creates the probe table on the primary and starts writing.
    static func start(_ nodes: [NodeConfig]) async throws -> ProbeLoad {
        let conninfo = writerConninfo(nodes)
        try await PGConnection.withSession(node: "drill", conninfo: conninfo) { session in
            _ = try await session.query("CREATE TABLE IF NOT EXISTS \(table) (id bigint PRIMARY KEY, at timestamptz DEFAULT now())")
        }
        return ProbeLoad(conninfo: conninfo, acks: AcknowledgedWrites())
    }

    func stop() async {
        task.cancel()
        await task.value
    }

    /// The ids `node` holds, and how many acknowledged ones it lacks.
    func survivors(on node: NodeConfig) async throws -> (stored: Set<Int64>, lost: Int) {
        let stored: Set<Int64> = try await PGConnection.withSession(node: node.name, conninfo: node.conninfo) { session in
            Set(try await session.query("SELECT id FROM \(Self.table)").rows.compactMap { Int64(try $0.string("id")) })
        }
        return (stored, acks.ids.filter { !stored.contains($0) }.count)
    }

    /// Drops the probe table wherever the primary now is (best effort: a drill that failed
    /// must not leave it behind either).
    func dropTable() async {
        _ = try? await PGConnection.withSession(node: "drill", conninfo: conninfo) { session in
            try await session.query("DROP TABLE IF EXISTS \(Self.table)")
        }
    }

    /// Every node as one libpq multi-host string that connects to whichever is writable.
    static func writerConninfo(_ nodes: [NodeConfig]) -> String {
        var parameters = nodes.first?.connection.parameters ?? [:]
        parameters["hostaddr"] = nil
        return Conninfo(parameters: parameters).rendered(overriding: [
            "host": nodes.map(\.connection.host).joined(separator: ","), "port": nodes.map { String($0.connection.port) }.joined(separator: ","),
            "target_session_attrs": "read-write", "connect_timeout": "1", "application_name": "drctl-drill",
        ])
    }
}
