import DRCore
import Foundation

/// A drill report as the terminal shows it.
public enum DrillSummary {
    public static func text(_ report: DrillReport, html: String, json: String) -> String {
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.2f s", $0) } ?? "not measured" }
        var lines = [
            "drill \(report.drill) (\(report.kind)): \(report.passed ? "PASSED" : "FAILED")",
            "  RTO \(seconds(report.rtoSeconds)) (objective \(String(format: "%.0f", report.rtoObjectiveSeconds)) s)",
            "  RPO \(seconds(report.rpoSeconds)) (objective \(String(format: "%.0f", report.rpoObjectiveSeconds)) s)\(report.dataLostBytes.map { ", \($0) bytes lost" } ?? "")",
        ]
        lines += report.phases.map { "    \(String(format: "%7.2f", $0.start)) – \(String(format: "%7.2f", $0.end)) s  \($0.name)" }
        lines += report.validations.map { "  \($0.passed ? "✔" : "✘") \($0.sql) = \($0.got ?? "error") (expected \($0.expect))" }
        lines += report.failures.map { "  ! \($0)" }
        lines += report.notes.map { "  - \($0)" }
        lines += ["  report: \(html)", "          \(json)"]
        return lines.joined(separator: "\n")
    }
}
