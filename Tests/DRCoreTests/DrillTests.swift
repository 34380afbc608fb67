import DRCore
import Foundation
import Testing

@Suite struct DrillTests {
    @Test func drillFilesParseWithLocatedErrors() throws {
        let spec = try DrillLoader.load(
            yaml: """
                name: region-outage
                kind: region-outage
                objectives: {rto: 20s}
                validation:
                  - sql: SELECT 1
                    expect: "1"
                """, file: "d.yaml")
        #expect(spec.kind == .regionOutage && spec.target == .lab && spec.rto == .seconds(20) && spec.rpo == nil)
        #expect(spec.validation == [.init(sql: "SELECT 1", expect: "1")])
        do {
            _ = try DrillLoader.load(yaml: "name: x\nkind: explode\ntarget: scratch\nbogus: 1\n", file: "bad.yaml")
            Issue.record("a bad drill file must be refused")
        } catch {
            let text = "\(error)"
            #expect(text.contains("bad.yaml") && text.contains("kind") && text.contains("bogus"), "\(text)")
        }
        #expect(throws: ConfigError.self) { try DrillLoader.load(yaml: "name: f\nkind: failover\ntarget: scratch\n", file: "f.yaml") }
    }

    @Test func aSwitchoverDrillRunsAgainstTheClusterToARegion() throws {
        let spec = try DrillLoader.load(yaml: "name: s\nkind: switchover\nto: region2\n", file: "s.yaml")
        #expect(spec.target == .cluster && spec.to == "region2" && spec.switchBack)
        #expect(try DrillLoader.load(yaml: "name: f\nkind: failover\ntarget: cluster\n", file: "f.yaml").target == .cluster)
        let oneWay = try DrillLoader.load(yaml: "name: s\nkind: switchover\ntarget: cluster\nto: r2\nswitch_back: false\n", file: "s.yaml")
        #expect(!oneWay.switchBack)
        for (yaml, message) in [
            ("name: s\nkind: switchover\n", "to"),
            ("name: s\nkind: switchover\ntarget: lab\nto: r2\n", "target: cluster"),
            ("name: r\nkind: restore-logical\ntarget: cluster\n", "only switchover and failover drills run against the cluster"),
            ("name: o\nkind: region-outage\ntarget: cluster\n", "runs against the lab"),
            ("name: r\nkind: restore-logical\nto: r2\n", "only a switchover drill takes to"),
        ] {
            let error = try #require(throws: ConfigError.self) { try DrillLoader.load(yaml: yaml, file: "s.yaml") }
            #expect(error.diagnostics.contains { $0.description.contains(message) }, "\(error.diagnostics)")
        }
    }

    @Test func theVerdictNamesEveryReason() {
        let ok = DrillReport.ValidationResult(sql: "SELECT 1", expect: "1", got: "1", passed: true)
        let bad = DrillReport.ValidationResult(sql: "SELECT 2", expect: "1", got: "2", passed: false)
        #expect(DrillReport.failures(rto: 10, rpo: 0, rtoObjective: 30, rpoObjective: 5, validations: [ok], errors: []).isEmpty)
        let failures = DrillReport.failures(rto: 31, rpo: nil, rtoObjective: 30, rpoObjective: 5, validations: [ok, bad], errors: ["boom"])
        #expect(failures == ["boom", "RTO 31s exceeds the objective 30s", "RPO not measured", "validation failed: SELECT 2 returned 2, expected 1"])
    }

    @Test func theHTMLReportIsSelfContainedWithATimeline() {
        let report = DrillReport(
            id: "r1", drill: "region-outage", kind: "region-outage", cluster: "lab", startedAt: "2026-11-23T08:00:00Z", finishedAt: "2026-11-23T08:00:09Z",
            rtoSeconds: 2.5, rpoSeconds: 1.25, dataLostBytes: 0, rtoObjectiveSeconds: 30, rpoObjectiveSeconds: 5,
            phases: [.init(name: "fault <isolated>", start: 2, end: 2.01), .init(name: "writable", start: 2.01, end: 4.5)],
            validations: [.init(sql: "SELECT 1", expect: "1", got: "1", passed: true)], failures: [], notes: ["a & b"])
        let html = DrillReportHTML.render(report)
        #expect(html.contains("PASSED") && html.contains("<svg") && html.contains("RTO objective 30 s"))
        #expect(html.contains("fault &lt;isolated&gt;") && html.contains("a &amp; b"), "escaped")
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("src="), "no scripts or external resources")
        #expect(html.components(separatedBy: "<rect").count == 3, "one bar per phase")
        // The axis fits the phases (0–5 s), not the 30 s objective, which is named off scale.
        #expect(html.contains(">5</text>") && !html.contains(">30</text>"), "\(html)")
        #expect(html.contains("RTO objective 30 s, off this scale →"))
        var tight = report
        tight.rtoObjectiveSeconds = 4
        let drawn = DrillReportHTML.render(tight)
        #expect(drawn.contains("stroke-dasharray") && drawn.contains("text-anchor=\"end\">RTO objective 4 s</text>"), "labelled inside the picture: \(drawn)")
    }

    static func run(_ id: String, _ drill: String, rto: Double?, passed: Bool = true, objective: Double = 30) -> DrillReport {
        DrillReport(
            id: id, drill: drill, kind: drill, cluster: "shop", startedAt: "2026-11-\(id)T08:00:00Z", finishedAt: "2026-11-\(id)T08:01:00Z",
            rtoSeconds: rto, rpoSeconds: 0.5, dataLostBytes: 0, rtoObjectiveSeconds: objective, rpoObjectiveSeconds: 5, phases: [], validations: [],
            failures: passed ? [] : ["RTO beyond the objective"], notes: [])
    }

    @Test func theIndexListsEveryRunNewestFirstWithTrendsAgainstTheObjectives() {
        let runs = [
            Self.run("03", "primary-failure", rto: 4.1), Self.run("01", "primary-failure", rto: 3.2), Self.run("02", "pitr", rto: 9),
            Self.run("04", "primary-failure", rto: 31, passed: false), Self.run("05", "pitr <x>", rto: nil),
        ]
        let html = DrillIndexHTML.render(cluster: "shop", reports: runs, generatedAt: "now") { "\($0.id).html" }
        let order = html.components(separatedBy: "<tr data-run=\"").dropFirst().map { String($0.prefix(2)) }
        #expect(order == ["05", "04", "03", "02", "01"], "newest first")
        #expect(html.contains("<p id=\"summary\">5 run(s): 4 passed, 1 failed."))
        #expect(html.contains("<a href=\"03.html\">report</a>"))
        #expect(html.contains("<span class=\"bad\">31 s</span> (30 s)") && html.contains("not measured (30 s)"))
        #expect(html.components(separatedBy: "<polyline").count - 1 == 2, "one line per drill with several measured runs (RTO; RPO)")
        #expect(html.contains("fill=\"#cf222e\"><title>primary-failure 2026-11-04T08:00:00Z: RTO 31 s (failed)</title>"))
        #expect(html.contains("stroke-dasharray"), "the objectives")
        #expect(html.contains("pitr &lt;x&gt;") && !html.contains("pitr <x>"))
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("<link"))
        #expect(DrillIndexHTML.render(cluster: "shop", reports: [], generatedAt: "now") { $0.id }.contains("no drills run yet"))
    }
}
