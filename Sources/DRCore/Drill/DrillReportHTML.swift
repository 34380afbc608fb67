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

    /// Phases as horizontal bars on a seconds axis scaled to the phases (ticked at round
    /// steps), with the RTO objective as a red line — or, when it lies beyond the axis, as a
    /// label at its end saying how far off it is.
    static func timeline(_ report: DrillReport) -> String {
        let width = 900.0, left = 220.0, right = 40.0, row = 26.0
        let axis = ChartAxis(largest: report.phases.map(\.end).max() ?? 0)
        let scale = (width - left - right) / axis.end
        let baseline = Double(report.phases.count) * row + 15
        let height = baseline + 50
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"drill timeline\">"
        for tick in axis.ticks {
            let x = left + tick * scale
            svg += "<line x1=\"\(fmt(x))\" y1=\"5\" x2=\"\(fmt(x))\" y2=\"\(fmt(baseline))\" stroke=\"#eaeef2\"/>"
            svg += "<text x=\"\(fmt(x))\" y=\"\(fmt(baseline + 15))\" font-size=\"11\" text-anchor=\"middle\">\(ChartAxis.label(tick))</text>"
        }
        svg += "<text x=\"\(fmt(width - 5))\" y=\"\(fmt(baseline + 15))\" font-size=\"11\" text-anchor=\"end\">s</text>"
        for (index, phase) in report.phases.enumerated() {
            let y = Double(index) * row + 10
            let x = left + phase.start * scale, w = max((phase.end - phase.start) * scale, 2)
            svg += "<text x=\"5\" y=\"\(y + 15)\" font-size=\"13\">\(escape(phase.name))</text>"
            svg +=
                "<rect x=\"\(fmt(x))\" y=\"\(y)\" width=\"\(fmt(w))\" height=\"18\" fill=\"#0969da\"><title>\(escape(phase.name)): \(DrillReport.format(phase.start))–\(DrillReport.format(phase.end)) s</title></rect>"
        }
        svg += "<line x1=\"\(left)\" y1=\"\(baseline)\" x2=\"\(width - right)\" y2=\"\(baseline)\" stroke=\"#555\"/>"
        let objective = "RTO objective \(DrillReport.format(report.rtoObjectiveSeconds)) s"
        if report.rtoObjectiveSeconds <= axis.end {
            let x = left + report.rtoObjectiveSeconds * scale
            svg += "<line x1=\"\(fmt(x))\" y1=\"0\" x2=\"\(fmt(x))\" y2=\"\(fmt(baseline))\" stroke=\"#cf222e\" stroke-dasharray=\"4 3\"/>"
            // Anchored at whichever end keeps the label inside the picture.
            let anchor = x > width / 2 ? "end" : "start"
            svg += "<text x=\"\(fmt(anchor == "end" ? x - 4 : x + 4))\" y=\"\(fmt(baseline + 32))\" font-size=\"11\" fill=\"#cf222e\" text-anchor=\"\(anchor)\">\(objective)</text>"
        } else {
            svg += "<text x=\"\(fmt(width - 5))\" y=\"\(fmt(baseline + 32))\" font-size=\"11\" fill=\"#cf222e\" text-anchor=\"end\">\(objective), off this scale →</text>"
        }
        return svg + "</svg>"
    }

    static func fmt(_ value: Double) -> String { String(Int(value.rounded())) }

    static func escape(_ text: String) -> String { MarkupEscaping.escape(text) }
}
