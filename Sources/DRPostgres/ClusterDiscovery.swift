import DRCore

/// Reads a running cluster for `drctl init`, with read-only queries only: the primary's
/// replication view, slots and settings, and each standby's WAL receiver.
public struct ClusterDiscovery: Sendable {
    public enum Problem: Error, CustomStringConvertible {
        case notPrimary(conninfo: String)
        case notStandby(conninfo: String)

        public var description: String {
            switch self {
            case .notPrimary(let conninfo): "\(Conninfo.redacted(conninfo)) is in recovery: --primary takes the server that accepts writes"
            case .notStandby(let conninfo): "\(Conninfo.redacted(conninfo)) is not in recovery: --standby takes a streaming standby"
            }
        }
    }

    public init() {}

    public func discover(primary: String, standbys: [String]) async throws -> DiscoveredCluster {
        let (primaryNode, facts) = try await PGConnection.withSession(node: "primary", conninfo: primary, connectTimeout: .seconds(5), statementTimeout: .seconds(5)) {
            session in
            let row = try await session.query(
                """
                SELECT pg_is_in_recovery() AS in_recovery, current_setting('data_directory', true) AS data_directory,
                       current_setting('synchronous_standby_names') AS sync_names, current_setting('archive_command') AS archive_command,
                       current_setting('wal_log_hints') AS hints, current_setting('data_checksums') AS checksums
                """
            ).single()
            guard try !row.bool("in_recovery") else { throw Problem.notPrimary(conninfo: primary) }
            let replicas = try await session.query(
                "SELECT application_name, client_addr::text AS client_addr, state, sync_state FROM pg_stat_replication ORDER BY application_name"
            ).rows.map { replica in
                DiscoveredCluster.Replica(
                    applicationName: try replica.string("application_name"), clientAddress: try replica.optionalString("client_addr"),
                    state: try replica.string("state"), syncState: try replica.string("sync_state"))
            }
            let slots = try await session.query("SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'physical' ORDER BY slot_name").rows.map {
                try $0.string("slot_name")
            }
            let host = (try? Conninfo.parse(primary))?.host ?? "primary"
            let node = DiscoveredCluster.Node(
                name: InitialConfig.nodeName(host), conninfo: primary, inRecovery: false, dataDirectory: try row.optionalString("data_directory"),
                upstreamHost: nil, slotName: nil)
            return (
                node,
                (
                    replicas: replicas, slots: slots, syncNames: try row.string("sync_names"), archive: try row.string("archive_command"),
                    hints: try row.string("hints") == "on", checksums: try row.string("checksums") == "on"
                )
            )
        }
        var nodes: [DiscoveredCluster.Node] = []
        for conninfo in standbys {
            nodes.append(
                try await PGConnection.withSession(node: "standby", conninfo: conninfo, connectTimeout: .seconds(5), statementTimeout: .seconds(5)) { session in
                    let row = try await session.query(
                        """
                        SELECT pg_is_in_recovery() AS in_recovery, current_setting('data_directory', true) AS data_directory,
                               (SELECT sender_host FROM pg_stat_wal_receiver) AS sender_host,
                               (SELECT slot_name FROM pg_stat_wal_receiver) AS slot_name,
                               current_setting('primary_conninfo') AS primary_conninfo
                        """
                    ).single()
                    guard try row.bool("in_recovery") else { throw Problem.notStandby(conninfo: conninfo) }
                    // The name the primary knows it by: application_name in its primary_conninfo.
                    let upstream = (try? Conninfo.parse(try row.string("primary_conninfo")))?.parameters["application_name"]
                    let host = (try? Conninfo.parse(conninfo))?.host ?? "standby"
                    return DiscoveredCluster.Node(
                        name: InitialConfig.nodeName(upstream ?? host), conninfo: conninfo, inRecovery: true,
                        dataDirectory: try row.optionalString("data_directory"), upstreamHost: try row.optionalString("sender_host"),
                        slotName: try row.optionalString("slot_name"))
                })
        }
        return DiscoveredCluster(
            primary: primaryNode, standbys: nodes, replicas: facts.replicas, slots: facts.slots, synchronousStandbyNames: facts.syncNames,
            archiveCommand: facts.archive, walLogHints: facts.hints, dataChecksums: facts.checksums)
    }
}
