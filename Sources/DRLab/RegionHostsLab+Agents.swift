import DRCore
import DRSystem
import Foundation

/// The regions lab's agents: one `drctl agent` per database region, in that region's
/// namespace, reaching etcd, its peers' APIs and its own database over the lab's network
/// only — and the loss of a whole region's host.
extension RegionHostsLab {
    public var configFile: String { "\(dir)/drctl.yaml" }
    public static let agentPort = 8008

    func agentDir(_ region: String) -> String { "\(dir)/\(region)/agent" }
    public func agentPID(_ region: String) -> Int32? { PIDFile.read("\(agentDir(region))/agent.pid") }

    /// The cluster's configuration, with the settings docs/failsafe.md recommends for regions 20–100 ms
    /// apart (1 s checks, 3 failures, a 5 s lease), which `bench/etcd-regions.sh` measured.
    func renderConfig() -> String {
        let dnsSection =
            dns.map { dns in
                """
                dns:
                  providers:
                    - name: regions-pdns
                      type: powerdns
                      url: \(dns.apiURL)
                      zone: \(dns.zone)
                      api_key_file: \(dns.apiKeyFile)
                      nameservers: ["\(dns.host):\(dns.port)"]
                  records:
                    - name: \(dns.record)
                      type: A
                      ttl: 5s
                      provider: regions-pdns
                      points_to: primary

                """
            } ?? ""
        let regions = Self.regions.map { region in
            let nodes = databases.filter { $0.region == region }
            let role = region == "region1" ? "primary" : nodes.isEmpty ? "cold" : "hot-standby"
            let address = hosts.hosts.first { $0.region == region }?.address ?? ""
            let api = nodes.isEmpty ? "" : "\n    api: \"\(address):\(Self.agentPort)\""
            let listed =
                nodes.isEmpty
                ? " []"
                : "\n"
                    + nodes.map {
                        "      - name: \($0.name)\n        conninfo: \"host=\($0.host) port=\($0.port) user=postgres dbname=postgres\"\n        data_dir: \($0.dataDir)\n        address: \($0.host)"
                    }.joined(separator: "\n")
            // The member in this region's namespace: the leader's agent keeps etcd's leader elsewhere.
            let member = etcdPlacement == true ? members.first { $0.namespace == namespace(region) }.map { "\n    etcd_member: \($0.name)" } ?? "" : ""
            return "  - name: \(region)\n    role: \(role)\n    priority: \(region == "region1" ? 100 : region == "region2" ? 90 : 10)\(api)\(member)\n    nodes:\(listed)"
        }
        return """
            # Written by `drctl-lab up --hosts`: regions as hosts, one etcd member each.
            cluster: regions
            objectives:
              rto: 30s
              rpo: 5s
            coordination:
              endpoints: [\(members.map(\.endpoint).joined(separator: ", "))]
              lease_ttl: 5s
            health:
              interval: 1s
              failures: 3
              timeout: 500ms
            failover:
              promotion_timeout: 10s
              cooldown: 1m
              auto_rejoin: \(autoRejoin ?? false)
            \(dnsSection)regions:
            \(regions.joined(separator: "\n"))

            """
    }

    /// Writes the configuration and starts region1's agent, waits until it holds the leader
    /// key, then region2's; returns once the primary's progress and every member's record
    /// are in etcd — until then a standby cannot tell what a failover would lose, and holds
    /// for an operator instead of promoting (found by the partition test).
    func startAgents(binary: String, progress: @Sendable (String) -> Void) async throws {
        try renderConfig().write(toFile: configFile, atomically: true, encoding: .utf8)
        for database in databases {
            guard let pid = try startAgent(of: database, binary: binary) else { continue }
            let stateDir = agentDir(database.region)
            progress("\(database.region): agent started (pid \(pid), log \(stateDir)/agent.log)")
            if database.region == "region1" {
                try await Readiness.wait(for: "agent region1 taking the leader key", log: "\(stateDir)/agent.log", pid: pid) {
                    try await leaderKey() == database.name
                }
            }
        }
        let keys = ["progress"] + databases.map { "members/\($0.name)" }
        try await Readiness.wait(for: "the primary's progress and every member's record in etcd", log: "\(agentDir("region2"))/agent.log", pid: nil) {
            for key in keys where try await etcdValue(key) == nil { return false }
            return true
        }
    }

    /// Starts the agent beside `database` in its region's namespace (appending to its log).
    /// Returns its PID; nil when the region has no namespace.
    @discardableResult
    public func startAgent(of database: Database, binary: String) throws -> Int32? {
        guard let namespace = namespace(database.region) else { return nil }
        let stateDir = agentDir(database.region)
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        let pid = try ProcessControl.spawnDaemon(
            [
                "ip", "netns", "exec", namespace, binary, "agent", "--region", database.region, "--config", configFile,
                "--state-dir", stateDir, "--source-address", database.host,
            ], logFile: "\(stateDir)/agent.log")
        try PIDFile.write(pid, to: "\(stateDir)/agent.pid")
        return pid
    }

    /// The node named by the leader key, read with etcdctl from region3 (nil: none).
    public func leaderKey() async throws -> String? { try await etcdValue("leader") }

    /// The value of the cluster's `key` (relative to its prefix), read with etcdctl from
    /// region3 (nil: none, or no answer).
    func etcdValue(_ key: String) async throws -> String? {
        let output = try await run(
            in: "region3",
            ["etcdctl", "--endpoints", endpoints(from: "region3").joined(separator: ","), "--dial-timeout", "1s", "get", "/drctl/regions/\(key)", "--print-value-only"],
            check: false)
        let value = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return output.status == 0 && !value.isEmpty ? value : nil
    }

    /// A power loss of `region`'s host: SIGKILL to every process in its namespace (its
    /// database, agent, watchdog, etcd member and relay). Returns the PIDs killed.
    @discardableResult
    public func loseHost(_ region: String) async throws -> [Int32] {
        guard let namespace = namespace(region) else { throw LabError.io("no region \(region) in this lab") }
        let listed = try await CommandRunner.run(["ip", "netns", "pids", namespace]).stdout
        let pids = listed.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        for pid in pids { kill(pid, SIGKILL) }
        for pid in pids { _ = await ProcessControl.waitForExit(pid, within: .seconds(5)) }
        return pids
    }

    /// Whether `database` accepts writes, asked with psql from `region` (nil: no answer).
    public func acceptsWrites(_ database: Database, from region: String) async throws -> Bool? {
        let output = try await run(
            in: region,
            ["psql", "host=\(database.host) port=\(database.port) user=postgres dbname=postgres connect_timeout=2", "-X", "-qtA", "-c", "SELECT pg_is_in_recovery()"],
            check: false)
        guard output.status == 0 else { return nil }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "f"
    }
}
