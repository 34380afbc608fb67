/// The drill report as one self-contained HTML page (no scripts, no external files): the
/// verdict, RTO and RPO against the objectives, and the timeline as SVG — each phase a bar
/// against the RTO line.
public enum DrillReportHTML {
    public static func render(_ report: DrillReport) -> String {
        let status = report.passed ? "PASSED" : "FAILED"
        let color = report.passed ? "#1a7f37" : "#cf222e"
        func cell(_ value: Double?) -> String { value.map { "\(DrillReport.format($0)) s" } ?? "not measured" }
        let validations = report.validations.map { v in
            "<tr><td><code>\(escape(v.sql))</code></td><td>\(escape(v.expect))</td><td>\(escape(v.got ?? "error"))</td><td>\(v.passed ? "✔" : "✘")</td></tr>"
        }.joined(separator: "\n")
        let failures = report.failures.isEmpty ? "" : "<h2>Why it failed</h2><ul>" + report.failures.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
        let notes = report.notes.isEmpty ? "" : "<h2>Notes</h2><ul>" + report.notes.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>drill \(escape(report.drill)) \(escape(report.id)): \(status)</title>
            <style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
            .verdict{color:\(color);font-weight:bold}</style></head>
            <body>
            <h1>Drill <code>\(escape(report.drill))</code> (\(escape(report.kind))): <span class="verdict">\(status)</span></h1>
            <p>Cluster <b>\(escape(report.cluster))</b>, run \(escape(report.id)), \(escape(report.startedAt)) → \(escape(report.finishedAt)).</p>
            <table>
            <tr><th></th><th>measured</th><th>objective</th></tr>
            <tr><td>RTO</td><td>\(cell(report.rtoSeconds))</td><td>\(DrillReport.format(report.rtoObjectiveSeconds)) s</td></tr>
            <tr><td>RPO</td><td>\(cell(report.rpoSeconds))\(report.dataLostBytes.map { " (\($0) bytes)" } ?? "")</td><td>\(DrillReport.format(report.rpoObjectiveSeconds)) s</td></tr>
            </table>
            <h2>Timeline</h2>
            \(timeline(report))
            <h2>Validation</h2>
            <table><tr><th>query</th><th>expected</th><th>got</th><th></th></tr>
            \(validations.isEmpty ? "<tr><td colspan=\"4\">no validation queries</td></tr>" : validations)
            </table>
            \(failures)
            \(notes)
            </body></html>

            """
    }

    /// Phases as horizontal bars on a seconds axis, with the RTO objective as a red line.
    static func timeline(_ report: DrillReport) -> String {
        let width = 900.0, left = 220.0, row = 26.0
        let end = max(report.phases.map(\.end).max() ?? 0, report.rtoObjectiveSeconds, 0.001)
        let scale = (width - left - 20) / end
        let height = Double(report.phases.count) * row + 50
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"drill timeline\">"
        for (index, phase) in report.phases.enumerated() {
            let y = Double(index) * row + 10
            let x = left + phase.start * scale, w = max((phase.end - phase.start) * scale, 2)
            svg += "<text x=\"5\" y=\"\(y + 15)\" font-size=\"13\">\(escape(phase.name))</text>"
            svg +=
                "<rect x=\"\(fmt(x))\" y=\"\(y)\" width=\"\(fmt(w))\" height=\"18\" fill=\"#0969da\"><title>\(escape(phase.name)): \(DrillReport.format(phase.start))–\(DrillReport.format(phase.end)) s</title></rect>"
        }
        let axis = Double(report.phases.count) * row + 15
        svg += "<line x1=\"\(left)\" y1=\"\(axis)\" x2=\"\(width - 20)\" y2=\"\(axis)\" stroke=\"#555\"/>"
        svg += "<text x=\"\(left)\" y=\"\(axis + 15)\" font-size=\"11\">0 s</text><text x=\"\(fmt(width - 60))\" y=\"\(axis + 15)\" font-size=\"11\">\(DrillReport.format(end)) s</text>"
        let rtoX = left + report.rtoObjectiveSeconds * scale
        svg += "<line x1=\"\(fmt(rtoX))\" y1=\"0\" x2=\"\(fmt(rtoX))\" y2=\"\(axis)\" stroke=\"#cf222e\" stroke-dasharray=\"4 3\"/>"
        svg += "<text x=\"\(fmt(rtoX + 4))\" y=\"\(axis + 30)\" font-size=\"11\" fill=\"#cf222e\">RTO objective \(DrillReport.format(report.rtoObjectiveSeconds)) s</text>"
        return svg + "</svg>"
    }

    static func fmt(_ value: Double) -> String { String(Int(value.rounded())) }

    static func escape(_ text: String) -> String { MarkupEscaping.escape(text) }
}
