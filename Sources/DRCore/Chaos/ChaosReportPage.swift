/// A campaign's report as one self-contained HTML page (no scripts, no external files):
/// each property's verdict, the command that replays it, and one SVG timeline with a lane
/// per fault and a lane per node whose marks are the writes it acknowledged, coloured by
/// timeline — so who accepted writes when, and across which fault, is seen at a glance.
public enum ChaosReportPage {
    public static func render(_ report: ChaosReport, planFile: String? = nil) -> String {
        let status = report.passed ? "PASSED" : "FAILED"
        let color = report.passed ? "#1a7f37" : "#cf222e"
        let properties = report.properties.map { property in
            "<tr><td>\(property.passed ? "✔" : "✘")</td><td>\(escape(property.name))</td><td>\(escape(property.detail))</td></tr>"
        }.joined(separator: "\n")
        let events = report.events.map { "<tr><td>\(String(format: "%.1f", $0.at))</td><td>\(escape($0.text))</td></tr>" }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>chaos seed \(report.seed) (\(escape(report.mode))): \(status)</title>
            <style>body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
            .verdict{color:\(color);font-weight:bold}code{background:#f6f8fa;padding:.1em .3em}</style></head>
            <body>
            <h1>Fault campaign, seed \(report.seed): <span class="verdict">\(status)</span></h1>
            <p>\(escape(report.mode == "sync" ? "Synchronous" : "Asynchronous")) replication, \(report.etcdMembers) etcd member(s), faults started during \(Int(report.duration)) s; \
            \(report.plan.steps.count) faults, \(report.acknowledged) acknowledged writes on timeline(s) \(report.timelines.map(String.init).joined(separator: ", ")).</p>
            <p>Replay: <code>\(escape(report.replayCommand(planFile: planFile)))</code></p>
            <h2>Properties</h2>
            <table><tr><th></th><th>property</th><th>detail</th></tr>
            \(properties)
            </table>
            <h2>Timeline</h2>
            \(timeline(report))
            <h2>Events</h2>
            <table><tr><th>s</th><th>event</th></tr>
            \(events)
            </table>
            </body></html>

            """
    }

    static let palette = ["#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#0a3069", "#57606a"]

    /// Fault lanes (a bar from injection to heal), then node lanes (one mark per half second
    /// in which the node acknowledged writes, coloured by its timeline), on one seconds axis
    /// with the last heal and the moment the cluster settled marked.
    static func timeline(_ report: ChaosReport) -> String {
        let width = 1000.0, left = 190.0, row = 22.0, right = 20.0
        let nodes = Set(report.acks.map(\.node)).sorted()
        let end = max(report.acks.map(\.ackedAt).max() ?? 0, report.events.map(\.at).max() ?? 0, report.lastHeal, 1)
        let scale = (width - left - right) / end
        let lanes = report.plan.steps.count + nodes.count
        let axis = Double(lanes) * row + 14
        let height = axis + 60
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"campaign timeline\">"
        for (index, step) in report.plan.steps.enumerated() {
            let y = Double(index) * row + 6
            let w = max(step.healAfter * scale, 3)
            svg += "<text x=\"5\" y=\"\(fmt(y + 13))\" font-size=\"12\">\(escape(step.fault.rawValue)) \(escape(step.node))</text>"
            svg +=
                "<rect x=\"\(fmt(left + step.at * scale))\" y=\"\(fmt(y))\" width=\"\(fmt(w))\" height=\"16\" fill=\"#d4a72c\"><title>\(escape(step.fault.rawValue)) \(escape(step.node)): "
                + String(format: "%.1f–%.1f s", step.at, step.at + step.healAfter) + "</title></rect>"
        }
        let timelines = report.timelines
        for (offset, node) in nodes.enumerated() {
            let y = Double(report.plan.steps.count + offset) * row + 6
            svg += "<text x=\"5\" y=\"\(fmt(y + 13))\" font-size=\"12\" font-weight=\"bold\">writes on \(escape(node))</text>"
            var buckets: [Int: Int] = [:]  // half-second bucket → newest timeline acknowledged in it
            for ack in report.acks where ack.node == node {
                let bucket = Int(ack.ackedAt * 2)
                buckets[bucket] = max(buckets[bucket] ?? 0, ack.timeline)
            }
            for (bucket, timeline) in buckets.sorted(by: { $0.key < $1.key }) {
                let colour = palette[(timelines.firstIndex(of: timeline) ?? 0) % palette.count]
                svg += "<rect x=\"\(fmt(left + Double(bucket) / 2 * scale))\" y=\"\(fmt(y))\" width=\"\(fmt(max(scale / 2, 1)))\" height=\"16\" fill=\"\(colour)\"/>"
            }
        }
        svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(axis))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(axis))\" stroke=\"#555\"/>"
        let tick = max(5, (end / 10 / 5).rounded(.up) * 5)
        for second in stride(from: 0.0, through: end, by: tick) {
            let x = left + second * scale
            svg += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(axis))\" x2=\"\(fmt(x))\" y2=\"\(fmt(axis + 4))\" stroke=\"#555\"/>"
            svg += "<text x=\"\(fmt(x - 6))\" y=\"\(fmt(axis + 16))\" font-size=\"11\">\(Int(second)) s</text>"
        }
        func marker(_ at: Double, _ label: String, _ colour: String, _ line: Int) {
            let x = left + at * scale
            svg += "<line x1=\"\(fmt(x))\" y1=\"0\" x2=\"\(fmt(x))\" y2=\"\(fmt(axis))\" stroke=\"\(colour)\" stroke-dasharray=\"4 3\"/>"
            let anchor = x > width - 200 ? "end" : "start"
            svg +=
                "<text x=\"\(fmt(x + (anchor == "end" ? -4 : 4)))\" y=\"\(fmt(axis + 16 + Double(line) * 14))\" font-size=\"11\" fill=\"\(colour)\" text-anchor=\"\(anchor)\">\(escape(label))</text>"
        }
        marker(report.lastHeal, String(format: "last heal %.1f s", report.lastHeal), "#cf222e", 1)
        if let settled = report.settledAt { marker(settled, String(format: "settled %.1f s", settled), "#1a7f37", 2) }
        var legendX = left
        for (index, timeline) in timelines.enumerated() {
            svg += "<rect x=\"\(fmt(legendX))\" y=\"\(fmt(height - 12))\" width=\"10\" height=\"10\" fill=\"\(palette[index % palette.count])\"/>"
            svg += "<text x=\"\(fmt(legendX + 14))\" y=\"\(fmt(height - 3))\" font-size=\"11\">timeline \(timeline)</text>"
            legendX += 90
        }
        return svg + "</svg>"
    }

    static func fmt(_ value: Double) -> String { String(Int(value.rounded())) }

    static func escape(_ text: String) -> String { MarkupEscaping.escape(text) }
}
