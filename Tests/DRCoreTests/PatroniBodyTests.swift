import DRCore
import Foundation
import Testing

/// The health endpoints' bodies carry Patroni's fields under Patroni's names, filled only
/// from a check the server answered.
@Suite struct PatroniBodyTests {
    static func body(_ probe: ProbeResult?, paused: Bool = false, etcd: Int64? = 1_765_000_000_500) throws -> [String: Any] {
        var snapshot = HealthEndpointsTests.snapshot("standby")
        snapshot.paused = paused
        snapshot.describe(probe, etcdLastContactMillis: etcd)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try #require(try JSONSerialization.jsonObject(with: encoder.encode(snapshot)) as? [String: Any])
    }

    @Test func aPrimaryShowsItsWritePositionAndVersion() throws {
        var state = PrimaryState(serverVersion: 150_010, timeline: 3, currentLSN: LSN(0x1_0000_0010), replication: [], slots: [])
        state.activity = ServerActivity(pendingRestart: true, postmasterStartMillis: 1_765_000_000_250)
        let body = try Self.body(.primary(state))
        #expect(body["role"] as? String == "primary")
        #expect(body["server_version"] as? Int == 150_010)
        #expect((body["xlog"] as? [String: Any])?["location"] as? UInt64 == 0x1_0000_0010)
        #expect((body["xlog"] as? [String: Any])?["received_location"] == nil)
        #expect(body["pending_restart"] as? Bool == true)
        #expect(body["postmaster_start_time"] as? String == "2025-12-06T05:46:40.250Z")
        #expect(body["dcs_last_seen"] as? Int == 1_765_000_000, "Unix seconds, as Patroni's")
        #expect(body["pause"] == nil, "absent unless paused, as Patroni answers")
        #expect(body["state"] as? String == "standby", "drctl's own key keeps its meaning")
    }

    @Test func aReplicaShowsReceivedAndReplayedPositions() throws {
        var state = StandbyState(
            serverVersion: 150_010, timeline: 3, receiveLSN: LSN(900), replayLSN: LSN(800), secondsSinceLastReplay: 1,
            walReceiverStatus: "streaming", upstreamHost: "h", upstreamPort: 5432, replayPaused: true, slots: [])
        state.lastReplayedCommitMillis = 1_765_000_000_000
        let body = try Self.body(.standby(state), paused: true)
        let xlog = try #require(body["xlog"] as? [String: Any])
        #expect(body["role"] as? String == "replica")
        #expect(xlog["received_location"] as? Int == 900 && xlog["replayed_location"] as? Int == 800)
        #expect(xlog["paused"] as? Bool == true)
        #expect(xlog["replayed_timestamp"] as? String == "2025-12-06T05:46:40.000Z")
        #expect(body["replication_state"] as? String == "streaming")
        #expect(body["pause"] as? Bool == true)
        #expect(body["pending_restart"] == nil)
    }

    @Test func aDatabaseThatDidNotAnswerShowsNoStalePositions() throws {
        var snapshot = HealthEndpointsTests.snapshot("primary")
        snapshot.describe(.primary(PrimaryState(serverVersion: 1, timeline: 1, currentLSN: LSN(5), replication: [], slots: [])), etcdLastContactMillis: nil)
        snapshot.describe(.unreachable(reason: "refused"), etcdLastContactMillis: nil)
        #expect(snapshot.xlog == nil && snapshot.role == nil && snapshot.serverVersion == nil && snapshot.dcsLastSeen == nil)
    }

    @Test func theBodyRoundTrips() throws {
        var snapshot = HealthEndpointsTests.snapshot("standby", tickedAt: 0)
        snapshot.describe(.primary(PrimaryState(serverVersion: 1, timeline: 1, currentLSN: LSN(5), replication: [], slots: [])), etcdLastContactMillis: 2000)
        let decoded = try JSONDecoder().decode(NodeSnapshot.self, from: JSONEncoder().encode(snapshot))
        #expect(decoded == snapshot)
    }
}
