import DRCore
import Foundation
import Testing

/// The status page from what an agent knows: the verdict, the warnings an operator acts on,
/// and a document that needs nothing but itself (no script, no external asset).
@Suite struct StatusPageTests {
    static let config: ClusterConfig = {
        do {
            return try ConfigLoader.load(
                yaml: """
                    cluster: shop
                    objectives: {rto: 30s, rpo: 5s}
                    coordination: {endpoints: ["http://127.0.0.1:2379"]}
                    regions:
                      - {name: r1, role: primary, nodes: [{name: a, conninfo: "host=127.0.1.1 port=5432", address: 127.0.1.1, data_dir: /srv/a}]}
                      - {name: r2, role: hot-standby, nodes: [{name: b, conninfo: "host=127.0.2.1 port=5433", address: 127.0.2.1, data_dir: /srv/b}]}
                      - {name: r3, role: cold, nodes: [{name: c, conninfo: "host=127.0.3.1 port=5434", address: 127.0.3.1}]}
                    dns:
                      providers:
                        - {name: pdns, type: powerdns, url: "http://127.0.0.1:8081", zone: example.test., api_key_env: PDNS_API_KEY}
                      records:
                        - {name: db.example.test., type: A, ttl: 5s, provider: pdns, points_to: primary}
                    """, file: "t.yaml")
        } catch {
            preconditionFailure("fixture config must load: \(error)")
        }
    }()

    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func member(_ name: String, _ role: NodeRole, healthy: Bool = true, lag: UInt64? = nil) -> MemberRecord {
        MemberRecord(
            name: name, region: "r", role: role, timeline: 2, lsn: LSN(0x300_0000), replayLSN: nil, lagBytes: lag, healthy: healthy, failedChecks: 0,
            publishedAtMillis: Int64(now.timeIntervalSince1970 * 1000))
    }

    static func inputs(
        members: [MemberRecord] = [member("a", .primary), member("b", .standby, lag: 2048)], leader: String? = "a", lagSeconds: Double = 0.4,
        etcd: Bool = true, dns: DNSRecordState.Phase? = .synced(at: .seconds(1))
    ) -> StatusPageModel.Inputs {
        let snapshot = CoordinationSnapshot(
            revision: 9, leader: leader.map { LeaderRecord(node: $0, term: 12, lease: 1) }, members: members,
            progress: PrimaryProgress(node: "a", timeline: 2, lsn: LSN(0x300_0800), standbyLagSeconds: ["b": lagSeconds]))
        let failover = FailoverEvidence(
            cluster: "shop", term: 12, promoted: "a", previousPrimary: "b", finishedAt: "2027-01-15T08:00:00Z", events: [], rtoSeconds: 3.2,
            dataLostBytes: 0, dataLostSeconds: 0.3, reason: "primary lost")
        let backup = BackupManifest(
            id: "20270115T070000Z-base-b", kind: .base, cluster: "shop", database: nil, path: "base.tar", size: 3 << 30, sha256: "x",
            startedAt: "2027-01-15T07:00:00Z", finishedAt: "2027-01-15T07:02:00Z", startLSN: nil, stopLSN: nil, timeline: 2, region: "r3",
            sourceNode: "b", postgresVersion: 150000)
        return StatusPageModel.Inputs(
            config: config, servedBy: "b", now: now, snapshot: snapshot, etcdReachable: etcd, history: [failover],
            dns: dns.map { ["db.example.test.": DNSRecordState(node: "a", term: 12, phase: $0)] } ?? [:], backups: [backup],
            drills: [.init(id: "20270115T060000Z-pitr", drill: "pitr", startedAt: "2027-01-15T06:00:00Z", passed: true, rtoSeconds: 8.1, rpoSeconds: 0)])
    }

    @Test func aHealthyClusterReadsHealthyWithEverySection() {
        let model = StatusPageModel(Self.inputs())
        #expect(model.warnings.isEmpty, "\(model.warnings)")
        let page = StatusPage.render(model)
        #expect(page.contains("<p id=\"verdict\" class=\"ok\">healthy</p>"))
        #expect(page.contains("Leader <b>a</b>, term 12."))
        #expect(page.contains("<tr data-node=\"a\" data-role=\"primary\">") && page.contains("<tr data-node=\"b\" data-role=\"standby\">"))
        #expect(page.contains("2.0 KiB / 0.4 s"), "lag in bytes and seconds")
        #expect(page.contains("<tr data-node=\"c\" data-role=\"no record\">"), "the cold node is listed, without a record")
        #expect(page.contains("<td class=\"ok\">in sync</td>"))
        #expect(page.contains("<tr data-kind=\"base\">") && page.contains("3.0 GiB"))
        #expect(page.contains("<tr data-term=\"12\">") && page.contains("3.20 s"))
        // Relative: the page also works behind a proxy that serves it under a path (docs/fleet.md).
        #expect(page.contains("<a href=\"drills/20270115T060000Z-pitr/report.html\">report</a>"))
        #expect(page.contains("<meta http-equiv=\"refresh\" content=\"5\">"))
    }

    /// Self-contained: no script, and nothing fetched from anywhere else (links are for
    /// people to follow, and only to agents of the cluster).
    @Test func theDocumentNeedsNothingButItself() {
        var inputs = Self.inputs(dns: nil)
        inputs.servedBy = "b"
        let page = StatusPage.render(StatusPageModel(inputs))
        for fetched in ["<script", "src=", "<link", "@import", "url(", "<iframe", "<object"] { #expect(!page.contains(fetched), "\(fetched)") }
        #expect(page.contains("unknown here") && page.contains("<a href=\"http://127.0.1.1:8008/\">its page</a>"), "the leader's page, which knows the records")
        #expect(page.contains("<tr data-region=\"r3\">") == false, "r3 has a node")
    }

    @Test(arguments: [
        (inputs(members: [member("a", .fenced), member("b", .standby)], leader: nil), "no writable primary", "a is fenced: `drctl rejoin a`"),
        (inputs(lagSeconds: 9), "degraded", "b is 9.0 s behind, beyond the RPO of 5 s"),
        (inputs(members: [member("a", .primary)]), "degraded", "b publishes no member record"),
        (inputs(etcd: false), "etcd unreachable", "etcd does not answer this agent"),
        (inputs(dns: .failed(at: .seconds(3))), "degraded", "DNS record db.example.test. could not be switched"),
        (inputs(members: [member("a", .primary), member("b", .primary)]), "SPLIT BRAIN: a, b accept writes", ""),
    ])
    func verdictsAndWarnings(_ inputs: StatusPageModel.Inputs, _ verdict: String, _ warning: String) {
        let page = StatusPage.render(StatusPageModel(inputs))
        #expect(page.contains("<p id=\"verdict\" class=\"") && page.contains("\">\(verdict)</p>"), "\(page.prefix(1500))")
        if !warning.isEmpty { #expect(page.contains(warning), "\(StatusPageModel(inputs).warnings)") }
    }

    @Test func namesFromTheClusterAreEscaped() {
        var building = Self.member("b", .down)
        building.building = "from primary: <copying> 1 GiB & more"
        let page = StatusPage.render(StatusPageModel(Self.inputs(members: [Self.member("a", .primary), building])))
        #expect(page.contains("b is being built as a standby from primary: &lt;copying&gt; 1 GiB &amp; more"))
        #expect(!page.contains("<copying>"))
    }
}
