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
    }
}
