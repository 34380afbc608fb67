import DRCoordination
import DRCore
import DRDNS
import DRHTTP
import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("DNS switching against the lab's PowerDNS")
    struct DNSIntegrationTests {
        func drctl(_ arguments: [String]) async throws -> CommandRunner.Output {
            try await CommandRunner.run([try DrctlBinary.path()] + arguments, check: false)
        }

        @Test func aFailoverMovesTheRecordAndAnOperatorCanMoveItByHand() async throws {
            try await withLab { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                let record = lab.dns.record
                #expect(try await lab.dns.lookup(record) == ["127.0.1.1"])
                let before = try await drctl(["dns", "status", "--config", lab.configFile, "--json"])
                #expect(before.status == 0, "\(before.stdout)\(before.stderr)")

                _ = try await Lab.kill(dir: lab.dir, node: "pg1")
                let moved = try await eventually(within: .seconds(30)) { try await lab.dns.lookup(record) == ["127.0.2.1"] }
                #expect(moved, "dig against the lab's PowerDNS answers with the new primary's address")
                _ = try await eventually(within: .seconds(10)) { try await !etcd.history().isEmpty }
                let evidence = try #require(try await etcd.history().last)
                let names = evidence.events.map(\.name)
                #expect(names.suffix(3) == ["writable", "DNS switched", "DNS verified"], "\(names)")
                #expect(evidence.rtoSeconds == evidence.events.last?.at)

                let status = try await drctl(["dns", "status", "--config", lab.configFile, "--json"])
                #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
                let rows = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]]
                #expect(rows?.first?["record"] as? String == record && rows?.first?["current"] as? String == "127.0.2.1")
                #expect(rows?.first?["in_sync"] as? Bool == true && rows?.first?["desired"] as? String == "127.0.2.1")

                // By hand, against the leader: warned, done, and status then says out of sync.
                let manual = try await drctl(["dns", "switch", record, "--to", "pg1", "--yes", "--config", lab.configFile])
                #expect(manual.status == 0, "\(manual.stdout)\(manual.stderr)")
                #expect(manual.stdout.contains("does not hold the leader key"))
                #expect(try await lab.dns.lookup(record) == ["127.0.1.1"])
                #expect(try await drctl(["dns", "status", "--config", lab.configFile]).status == 1)
                let back = try await drctl(["dns", "switch", record, "--to", "pg2", "--yes", "--config", lab.configFile])
                #expect(back.status == 0 && back.stdout.contains("switched to pg2"), "\(back.stdout)\(back.stderr)")
                #expect(try await drctl(["dns", "switch", "nope.example.com", "--to", "pg2", "--yes", "--config", lab.configFile]).status == 2)

                // The API key never reaches a log or the output.
                let key = try String(contentsOfFile: lab.dns.apiKeyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(key.count >= 32)
                for log in ["region1/agent.log", "region2/agent.log"] {
                    let text = (try? String(contentsOfFile: "\(lab.dir)/agents/\(log)", encoding: .utf8)) ?? ""
                    #expect(!text.contains(key), "\(log) must not contain the PowerDNS API key")
                }
                for output in [before, status, manual, back] { #expect(!(output.stdout + output.stderr).contains(key)) }

                // PowerDNS refuses a wrong key with 401: reported at once, not retried.
                let wrong = PowerDNSProvider(name: "lab-pdns", url: lab.dns.apiURL, zone: lab.dns.zone, apiKey: "wrong-key")
                do {
                    _ = try await wrong.read(name: record, type: .a, deadline: ContinuousClock().now + .seconds(10))
                    Issue.record("a wrong API key must be refused")
                } catch let error as DNSProviderError {
                    #expect(error.kind == .rejected(status: 401), "\(error)")
                    #expect(!error.description.contains("wrong-key"))
                }
            }
        }

        /// A record changed behind the leader's back (by hand, or a deposed leader's late
        /// write) is read again and pointed back at its target, and counted.
        @Test func theLeaderRepairsARecordThatDrifted() async throws {
            try await withLab(failover: LabFailoverSettings(dnsRecheckInterval: "2s")) { lab in
                let record = lab.dns.record
                #expect(try await lab.dns.lookup(record) == ["127.0.1.1"])
                // The leader's first switch (at start) must be done, or the edit below races its verification.
                let agentLog = "\(lab.dir)/agents/region1/agent.log"
                let settled = try await eventually(within: .seconds(20)) {
                    let log = (try? String(contentsOfFile: agentLog, encoding: .utf8)) ?? ""
                    return log.contains("DNS switched and verified") || log.contains("DNS already pointed at its target")
                }
                #expect(settled)
                let key = try String(contentsOfFile: lab.dns.apiKeyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                let pdns = PowerDNSProvider(name: "lab-pdns", url: lab.dns.apiURL, zone: lab.dns.zone, apiKey: key)
                try await pdns.upsert(
                    [DNSRecordSet(name: record, type: .a, ttlSeconds: 5, values: ["127.0.9.9"])], comment: "someone else",
                    deadline: ContinuousClock().now + .seconds(10))
                #expect(try await lab.dns.lookup(record) == ["127.0.9.9"])
                let repaired = try await eventually(within: .seconds(20)) { try await lab.dns.lookup(record) == ["127.0.1.1"] }
                #expect(repaired, "the leader points the record back at the primary")
                let api = try #require(Lab.status(dir: lab.dir).agents.first { $0.region == "region1" }?.api)
                let metrics = try await HTTPClient().send(HTTPRequest(url: api + "/metrics")).text
                #expect(metrics.contains("drctl_dns_drift_repairs_total{cluster=\"lab\",record=\"\(record)\"} 1"), "\(metrics.split(separator: "\n").filter { $0.contains("drift") })")
                let log = try String(contentsOfFile: agentLog, encoding: .utf8)
                #expect(log.contains("DNS record had drifted from its target: repaired"))
            }
        }
    }
}
