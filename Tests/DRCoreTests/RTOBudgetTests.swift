import Testing

@testable import DRCore

@Suite struct RTOBudgetTests {
    private func config(_ edits: [(String, String)] = []) throws -> ClusterConfig {
        var yaml = ConfigFixtures.valid
        for (old, new) in edits { yaml = yaml.replacingOccurrences(of: old, with: new) }
        return try ConfigLoader.load(yaml: yaml, file: "t.yaml")
    }

    @Test func sumsDetectionPromotionAndDNS() throws {
        let budget = RTOBudget.compute(for: try config())
        #expect(budget.items.map(\.name) == ["detection", "promotion", "dns update", "dns ttl"])
        // detection = max(3 x 1s, lease 5s) = 5s; promotion 10s; dns update 10s; longest TTL 60s
        #expect(budget.items.map(\.duration) == [.seconds(5), .seconds(10), .seconds(10), .seconds(60)])
        #expect(budget.total == .seconds(85))
        #expect(!budget.fits)
    }

    @Test func detectionIsTheSlowerOfChecksAndLease() throws {
        let slowChecks = RTOBudget.compute(for: try config([("interval: 1s", "interval: 4s"), ("timeout: 500ms", "timeout: 1s")]))
        #expect(slowChecks.items[0].duration == .seconds(12))
    }

    @Test func withoutDNSTheBudgetHasNoDNSItems() throws {
        let c = try ConfigLoader.load(
            yaml: """
                cluster: tiny
                objectives: {rto: 30s, rpo: 0s}
                coordination: {endpoints: ["http://127.0.0.1:2379"], lease_ttl: 5s}
                regions:
                  - {name: a, role: primary, nodes: [{name: n1, conninfo: "host=127.0.0.1", data_dir: /var/lib/postgresql/15/n1}]}
                """, file: "t.yaml")
        let budget = RTOBudget.compute(for: c)
        #expect(budget.items.map(\.name) == ["detection", "promotion"])
        #expect(budget.total == .seconds(15))
        #expect(budget.fits)
    }

    @Test func warnsWhenTheObjectiveCannotBeMet() throws {
        let warnings = ConfigWarning.all(for: try config()).map(\.message)
        #expect(warnings.contains { $0.contains("the RTO budget 1m25s exceeds the RTO objective 30s") })
        let fitting = ConfigWarning.all(for: try config([("ttl: 60s", "ttl: 1s"), ("rto: 30s", "rto: 1m")])).map(\.message)
        #expect(!fitting.contains { $0.contains("exceeds the RTO objective") }, "\(fitting)")
    }

    @Test func warnsAboutALeaseShorterThanThreeIntervals() throws {
        let warnings = ConfigWarning.all(for: try config([("lease_ttl: 5s", "lease_ttl: 2s")])).map(\.message)
        #expect(warnings.contains { $0.contains("lease_ttl 2s is under 3 health intervals") })
    }

    @Test func warnsAboutASingleEtcdMemberAndNoCandidates() throws {
        let c = try ConfigLoader.load(
            yaml: """
                cluster: tiny
                objectives: {rto: 1m, rpo: 0s}
                coordination: {endpoints: ["http://127.0.0.1:2379"]}
                regions:
                  - {name: a, role: primary, nodes: [{name: n1, conninfo: "host=127.0.0.1", data_dir: /var/lib/postgresql/15/n1}]}
                """, file: "t.yaml")
        let warnings = ConfigWarning.all(for: c).map(\.message)
        #expect(warnings.contains { $0.contains("1 etcd endpoint(s)") })
        #expect(warnings.contains { $0.contains("fewer than two nodes may be promoted") })
        #expect(warnings.contains { $0.contains("no backup repository") })
    }
}
