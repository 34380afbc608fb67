import Foundation

/// Every drill run on one self-contained page (`drctl drill report --index`), for the people
/// who ask whether the DR plan works: RTO and RPO over time against the objectives, as SVG
/// trends (one line per drill, failed runs in red), and every run with a link to its report.
public enum DrillIndexHTML {
    /// - Parameter link: where a run's own report is, as the page should link it.
    public static func render(cluster: String, reports: [DrillReport], generatedAt: String, link: (DrillReport) -> String) -> String {
        let runs = reports.sorted { $0.startedAt < $1.startedAt }
        let passed = runs.filter(\.passed).count
        let rows = runs.reversed().map { report in
            let verdict = report.passed ? "<td class=\"ok\">passed</td>" : "<td class=\"bad\">FAILED</td>"
            return "<tr data-run=\"\(escape(report.id))\"><td>\(escape(report.startedAt))</td><td>\(escape(report.drill))</td><td>\(escape(report.kind))</td>\(verdict)"
                + "<td>\(measured(report.rtoSeconds, report.rtoObjectiveSeconds))</td><td>\(measured(report.rpoSeconds, report.rpoObjectiveSeconds))</td>"
                + "<td><a href=\"\(escape(link(report)))\">report</a></td></tr>"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>DR drills of \(escape(cluster))</title>
            <style>body{font-family:sans-serif;margin:2em;max-width:75em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
            .ok{color:#1a7f37}.bad{color:#cf222e;font-weight:bold}small{color:#656d76}</style></head>
            <body>
            <h1>DR drills of <code>\(escape(cluster))</code></h1>
            <p id="summary">\(runs.count) run(s): \(passed) passed, \(runs.count - passed) failed. <small>Generated \(escape(generatedAt)).</small></p>
            <h2>RTO over time</h2>
            \(trend(runs, label: "RTO", value: \.rtoSeconds, objective: \.rtoObjectiveSeconds))
            <h2>RPO over time</h2>
            \(trend(runs, label: "RPO", value: \.rpoSeconds, objective: \.rpoObjectiveSeconds))
            <h2>Every run</h2>
            <table id="runs"><tr><th>Started</th><th>Drill</th><th>Kind</th><th>Verdict</th><th>RTO (objective)</th><th>RPO (objective)</th><th></th></tr>
            \(rows.isEmpty ? "<tr><td colspan=\"7\">no drills run yet</td></tr>" : rows.joined(separator: "\n"))
            </table>
            </body></html>

            """
    }

    static func measured(_ value: Double?, _ objective: Double) -> String {
        guard let value else { return "not measured (\(DrillReport.format(objective)) s)" }
        let style = value <= objective ? "ok" : "bad"
        return "<span class=\"\(style)\">\(DrillReport.format(value)) s</span> (\(DrillReport.format(objective)) s)"
    }

    static let palette = ["#0969da", "#8250df", "#bf8700", "#1a7f37", "#d1242f", "#57606a"]

    /// Runs left to right in time order (evenly spaced: drills run days apart, then twice in
    /// an hour); each drill a line, its objective dashed in the same colour.
    static func trend(_ runs: [DrillReport], label: String, value: KeyPath<DrillReport, Double?>, objective: KeyPath<DrillReport, Double>) -> String {
        let measured = runs.compactMap { $0[keyPath: value] }
        guard !measured.isEmpty else { return "<p><small>No \(label) measured yet.</small></p>" }
        let drills = Array(Set(runs.map(\.drill))).sorted()
        let width = 900.0, height = 270.0, left = 50.0, right = 150.0, top = 28.0, bottom = 40.0
        let axis = ChartAxis(largest: max(measured.max() ?? 0, runs.map { $0[keyPath: objective] }.max() ?? 0))
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let x = { (index: Int) in left + (runs.count == 1 ? plotWidth / 2 : Double(index) * plotWidth / Double(runs.count - 1)) }
        let y = { (seconds: Double) in top + plotHeight - seconds / axis.end * plotHeight }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(label) over time\">"
        for tick in axis.ticks {
            svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(tick)))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(y(tick)))\" stroke=\"#eaeef2\"/>"
            svg += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(y(tick) + 4))\" font-size=\"11\" text-anchor=\"end\">\(ChartAxis.label(tick))</text>"
        }
        svg += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(top - 14))\" font-size=\"11\" text-anchor=\"end\">s</text>"
        if let first = runs.first, let last = runs.last {
            svg += "<text x=\"\(fmt(x(0)))\" y=\"\(fmt(height - 12))\" font-size=\"11\">\(escape(String(first.startedAt.prefix(10))))</text>"
            if runs.count > 1 {
                svg += "<text x=\"\(fmt(x(runs.count - 1)))\" y=\"\(fmt(height - 12))\" font-size=\"11\" text-anchor=\"end\">\(escape(String(last.startedAt.prefix(10))))</text>"
            }
        }
        for (index, drill) in drills.enumerated() {
            let color = palette[index % palette.count]
            let points = runs.enumerated().compactMap { position, run in
                run.drill == drill ? run[keyPath: value].map { (position, $0, run) } : nil
            }
            if points.count > 1 {
                let path = points.map { "\(fmt(x($0.0))),\(fmt(y($0.1)))" }.joined(separator: " ")
                svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            }
            for (position, seconds, run) in points {
                svg +=
                    "<circle cx=\"\(fmt(x(position)))\" cy=\"\(fmt(y(seconds)))\" r=\"4\" fill=\"\(run.passed ? color : "#cf222e")\">"
                    + "<title>\(escape(run.drill)) \(escape(run.startedAt)): \(label) \(DrillReport.format(seconds)) s\(run.passed ? "" : " (failed)")</title></circle>"
            }
            if let goal = runs.last(where: { $0.drill == drill })?[keyPath: objective] {
                svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(goal)))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(y(goal)))\" stroke=\"\(color)\" stroke-dasharray=\"5 4\"/>"
            }
            let legendY = top + Double(index) * 18 + 10
            svg += "<rect x=\"\(fmt(width - right + 12))\" y=\"\(fmt(legendY - 9))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            svg += "<text x=\"\(fmt(width - right + 27))\" y=\"\(fmt(legendY))\" font-size=\"12\">\(escape(drill))</text>"
        }
        svg += "<text x=\"\(fmt(width - right + 12))\" y=\"\(fmt(top + Double(drills.count) * 18 + 16))\" font-size=\"11\" fill=\"#57606a\">dashed: objective</text>"
        return svg + "</svg>"
    }

    static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String { MarkupEscaping.escape(text) }
}
