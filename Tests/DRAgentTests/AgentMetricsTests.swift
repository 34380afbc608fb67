import DRCore
import Testing

@testable import DRAgent

/// The gauges Patroni users graph, and PostgreSQL's counters mirrored so that they only rise.
@Suite struct AgentMetricsTests {
    static func standby(archived: Int64, failed: Int64 = 0) -> ProbeResult {
        var state = StandbyState(
            serverVersion: 150_010, timeline: 4, receiveLSN: LSN(4096), replayLSN: LSN(2048), secondsSinceLastReplay: nil,
            walReceiverStatus: "streaming", upstreamHost: nil, upstreamPort: nil, replayPaused: true, slots: [])
        state.activity = ServerActivity(pendingRestart: true, postmasterStartMillis: 1_000_000, archivedCount: archived, archiveFailedCount: failed)
        return .standby(state)
    }

    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func aStandbysPositionsAndStateAreGauges() {
        let metrics = AgentMetrics()
        metrics.postgres("pg2", Self.standby(archived: 0), clusterPaused: true)
        metrics.etcdContact("pg2", atMillis: 5_500)
        let text = metrics.exposition()
        let expected: [(String, Double)] = [
            ("drctl_postgres_timeline{node=\"pg2\"}", 4), ("drctl_postgres_wal_received_lsn_bytes{node=\"pg2\"}", 4096),
            ("drctl_postgres_wal_replayed_lsn_bytes{node=\"pg2\"}", 2048), ("drctl_postgres_wal_current_lsn_bytes{node=\"pg2\"}", 0),
            ("drctl_postgres_wal_replay_paused{node=\"pg2\"}", 1), ("drctl_cluster_paused{node=\"pg2\"}", 1),
            ("drctl_postgres_pending_restart{node=\"pg2\"}", 1), ("drctl_postgres_server_version{node=\"pg2\"}", 150_010),
            ("drctl_postgres_postmaster_start_timestamp_seconds{node=\"pg2\"}", 1000), ("drctl_etcd_last_contact_timestamp_seconds{node=\"pg2\"}", 5.5),
        ]
        for (series, value) in expected { #expect(Self.value(text, series) == value, "\(series)") }
    }

    @Test func archiverCountersOnlyRiseAcrossAStatisticsReset() {
        let metrics = AgentMetrics()
        let series = "drctl_postgres_wal_archived_total{node=\"pg1\"}"
        for (reading, total) in [(Int64(10), 10.0), (12, 12), (12, 12), (3, 15), (5, 17)] {
            metrics.postgres("pg1", Self.standby(archived: reading), clusterPaused: false)
            #expect(Self.value(metrics.exposition(), series) == total, "after pg_stat_archiver read \(reading)")
        }
    }

    @Test func anUnansweredCheckZeroesThePositions() {
        let metrics = AgentMetrics()
        metrics.postgres("pg1", Self.standby(archived: 1), clusterPaused: false)
        metrics.postgres("pg1", .unreachable(reason: "refused"), clusterPaused: false)
        let text = metrics.exposition()
        #expect(Self.value(text, "drctl_postgres_wal_received_lsn_bytes{node=\"pg1\"}") == 0)
        #expect(Self.value(text, "drctl_postgres_timeline{node=\"pg1\"}") == 0)
    }

    @Test func everySeriesOfAnAgentCarriesItsCluster() {
        let metrics = AgentMetrics(cluster: "shop")
        metrics.prepare(nodes: ["pg1"], records: [])
        metrics.etcdContact("pg1", atMillis: 1000)
        let series = metrics.exposition().split(separator: "\n").filter { $0.hasPrefix("drctl_") }
        #expect(!series.isEmpty && series.allSatisfy { $0.contains("{cluster=\"shop\"") }, "\(series)")
        #expect(Self.value(metrics.exposition(), "drctl_etcd_last_contact_timestamp_seconds{cluster=\"shop\",node=\"pg1\"}") == 1)
    }
}
