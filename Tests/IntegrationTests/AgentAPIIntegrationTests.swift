import DRCoordination
import DRCore
import DRHTTP
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("the agent's HTTP API, metrics and HAProxy in the lab")
    struct AgentAPIIntegrationTests {
        static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

        func code(_ url: String, method: String = "GET") async -> Int? {
            try? await HTTPClient().send(HTTPRequest(method: method, url: url, connectTimeout: .seconds(1), timeout: .seconds(2))).status
        }

        func codes(_ base: String) async -> [String: Int] {
            var result: [String: Int] = [:]
            for path in ["/primary", "/replica", "/read-only", "/health"] { result[path] = await code(base + path) ?? 0 }
            return result
        }

        /// The address of the server behind HAProxy's `port`.
        func server(behind port: Int, write: Bool = false) async -> String? {
            try? await PGConnection.withSession(node: "haproxy", conninfo: "host=127.0.0.1 port=\(port) user=postgres dbname=postgres", connectTimeout: .seconds(1)) { session in
                if write { _ = try await session.query("INSERT INTO through_haproxy DEFAULT VALUES") }
                return try await session.query("SELECT host(inet_server_addr()) AS s").single().string("s")
            }
        }

        @Test func endpointsAndHAProxyFollowAFailover() async throws {
            try await withLab { lab in
                let agents = try Lab.status(dir: lab.dir).agents
                let api1 = try #require(agents.first { $0.region == "region1" }?.api), api2 = try #require(agents.first { $0.region == "region2" }?.api)
                let ready = try await eventually(within: .seconds(10)) {
                    let primary = await code(api1 + "/primary"), replica = await code(api2 + "/replica")
                    return primary == 200 && replica == 200
                }
                #expect(ready)
                #expect(await codes(api1) == ["/primary": 200, "/replica": 503, "/read-only": 200, "/health": 200])
                #expect(await codes(api2) == ["/primary": 503, "/replica": 200, "/read-only": 200, "/health": 200])
                #expect(await code(api2 + "/replica?lag=0") == 200, "caught up: within even a zero limit")
                #expect(await code(api1 + "/nope") == 404)
                // Patroni's other names and methods, as HAProxy and Kubernetes probes send them.
                for (path, primary, standby) in [
                    ("/master", 200, 503), ("/liveness", 200, 200), ("/readiness", 200, 200), ("/async", 503, 200), ("/sync", 503, 503),
                    ("/replica?tag_noloadbalance=false", 503, 200), ("/replica?tag_nofailover=true", 503, 503),
                ] {
                    #expect(await code(api1 + path) == primary, "\(path) on the primary")
                    #expect(await code(api2 + path) == standby, "\(path) on the standby")
                }
                #expect(await code(api1 + "/primary", method: "OPTIONS") == 200)
                #expect(await code(api2 + "/primary", method: "OPTIONS") == 503)
                #expect(await code(api1 + "/primary", method: "HEAD") == 200)
                #expect(await code(api1 + "/primary", method: "DELETE") == 405)
                let status = try await HTTPClient().send(HTTPRequest(url: api2 + "/status"))
                let view = try JSONSerialization.jsonObject(with: Data(status.body)) as? [String: Any]
                #expect(view?["node"] as? String == "pg2" && view?["leader"] as? String == "pg1" && view?["state"] as? String == "standby")
                // Patroni's body fields, read from the real servers.
                let replicaXlog = view?["xlog"] as? [String: Any]
                #expect(view?["role"] as? String == "replica" && view?["replication_state"] as? String == "streaming")
                #expect((replicaXlog?["received_location"] as? Int ?? 0) > 0 && replicaXlog?["paused"] as? Bool == false)
                #expect((view?["server_version"] as? Int ?? 0) >= 150_000 && view?["dcs_last_seen"] is Int && view?["postmaster_start_time"] is String)
                let primaryBody = try await HTTPClient().send(HTTPRequest(url: api1 + "/primary"))
                let primaryView = try JSONSerialization.jsonObject(with: Data(primaryBody.body)) as? [String: Any]
                #expect(primaryView?["role"] as? String == "primary" && ((primaryView?["xlog"] as? [String: Any])?["location"] as? Int ?? 0) > 0)

                // The metrics text passes promtool's checks.
                let metrics = try await HTTPClient().send(HTTPRequest(url: api1 + "/metrics"))
                let file = "\(lab.dir)/metrics.txt"
                try Data(metrics.body).write(to: URL(fileURLWithPath: file))
                let lint = try await CommandRunner.run(["sh", "-c", "promtool check metrics < '\(file)'"], check: false)
                #expect(lint.status == 0, "promtool: \(lint.stdout)\(lint.stderr)")
                #expect(metrics.text.contains("drctl_leader_term{cluster=\"lab\",node=\"pg1\"}") && metrics.text.contains("drctl_health_checks_total"))
                for series in [
                    "drctl_postgres_timeline{cluster=\"lab\",node=\"pg1\"} 1", "drctl_postgres_pending_restart{cluster=\"lab\",node=\"pg1\"} 0",
                    "drctl_cluster_paused{cluster=\"lab\",node=\"pg1\"} 0",
                    "drctl_postgres_wal_archived_total{cluster=\"lab\",node=\"pg1\"}", "drctl_etcd_last_contact_timestamp_seconds{cluster=\"lab\",node=\"pg1\"}",
                    "drctl_postgres_wal_current_lsn_bytes{cluster=\"lab\",node=\"pg1\"}",
                ] {
                    #expect(metrics.text.contains(series), "\(series) in /metrics")
                }

                // examples/haproxy.cfg, as shipped, in front of the lab.
                let pg1 = try lab.node("pg1"), pg2 = try lab.node("pg2")
                let writePort = try PortAllocator.freePort(), readPort = try PortAllocator.freePort(avoiding: [writePort])
                func hostPort(_ url: String) -> (String, String) {
                    let parts = url.dropFirst("http://".count).split(separator: ":")
                    return (String(parts[0]), String(parts[1]))
                }
                let (h1, p1) = hostPort(api1), (h2, p2) = hostPort(api2)
                let haproxy = try ProcessControl.spawnDaemon(
                    [
                        "/usr/bin/env", "PG1_ADDR=\(pg1.host):\(pg1.port)", "PG1_API_HOST=\(h1)", "PG1_API_PORT=\(p1)",
                        "PG2_ADDR=\(pg2.host):\(pg2.port)", "PG2_API_HOST=\(h2)", "PG2_API_PORT=\(p2)",
                        "HAPROXY_BIND=127.0.0.1", "HAPROXY_PRIMARY_PORT=\(writePort)", "HAPROXY_REPLICA_PORT=\(readPort)",
                        "haproxy", "-db", "-f", "\(Self.repository)/examples/haproxy.cfg",
                    ], logFile: "\(lab.dir)/haproxy.log")
                do {
                    try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { _ = try await $0.query("CREATE TABLE through_haproxy (id serial PRIMARY KEY)") }
                    let routed = try await eventually(within: .seconds(15)) {
                        let writer = await server(behind: writePort, write: true), reader = await server(behind: readPort)
                        return writer == pg1.host && reader == pg2.host
                    }
                    let log = (try? String(contentsOfFile: "\(lab.dir)/haproxy.log", encoding: .utf8)) ?? ""
                    #expect(routed, "writes to pg1, reads to pg2; haproxy log:\n\(log.suffix(1500))")

                    _ = try await Lab.kill(dir: lab.dir, node: "pg1")
                    let promoted = try await eventually(within: .seconds(20)) { await code(api2 + "/primary") == 200 }
                    #expect(promoted)
                    #expect(await code(api2 + "/replica") == 503)
                    #expect(await code(api1 + "/primary") == nil, "the killed agent's API is gone with it")
                    let followed = try await eventually(within: .seconds(20)) { await server(behind: writePort, write: true) == pg2.host }
                    #expect(followed, "HAProxy sends writes to the new primary")

                    // Every metric the shipped Grafana dashboard charts exists (switchovers aside: none happened).
                    let dashboard = try String(contentsOfFile: "\(Self.repository)/examples/grafana-dashboard.json", encoding: .utf8)
                    let charted = Set(dashboard.matches(of: /drctl_[a-z_]+/).map { String($0.output) }).filter { !$0.contains("switchover") }
                    var missing: [String] = []
                    let exported = try await eventually(within: .seconds(10)) {
                        let text = try await HTTPClient().send(HTTPRequest(url: api2 + "/metrics")).text
                        missing = charted.filter { !text.contains("\n\($0) ") && !text.contains("\n\($0){") }.sorted()
                        return missing.isEmpty
                    }
                    #expect(exported, "not exported: \(missing)")
                } catch {
                    try? await ProcessControl.stop(haproxy, name: "haproxy")
                    throw error
                }
                try await ProcessControl.stop(haproxy, name: "haproxy")
            }
        }

        /// SIGTERM with no restart after it: the agent stops gracefully and leaves its lease
        /// to the watchdog, which fences the database at the deadline; then the standby takes over.
        @Test func sigtermOnThePrimarysAgentThatStaysStoppedFencesItAndTheStandbyTakesOver() async throws {
            try await withLab { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                let agent = try #require(Lab.status(dir: lab.dir).agents.first { $0.region == "region1" }?.pid)
                kill(agent, SIGTERM)
                #expect(await ProcessControl.waitForExit(agent, within: .seconds(20)), "the agent stops by itself")
                let promoted = try await eventually(within: .seconds(20)) { try await etcd.leader()?.node == "pg2" }
                #expect(promoted)
                let report = try await lab.status()
                #expect(report.nodes.first { $0.name == "pg1" }?.role == .down, "fenced at the lease deadline")
                let log = try String(contentsOfFile: "\(lab.dir)/agents/region1/agent.log", encoding: .utf8)
                #expect(log.contains("agent stopped") && log.contains("stopping with the lease left to the watchdog"), "\(log.suffix(1500))")
                let watchdog = try String(contentsOfFile: "\(lab.dir)/agents/region1/watchdog-pg1.log", encoding: .utf8)
                #expect(watchdog.contains("agent missed its lease deadline: fencing the database"), "\(watchdog.suffix(1500))")
            }
        }
    }
}
