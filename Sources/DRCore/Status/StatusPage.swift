import Foundation

/// The page an operator opens during an incident (`GET /` on any agent): one self-contained
/// HTML document — no script, no external asset, readable in a text browser — that reloads
/// itself every few seconds. Every section carries an `id` and every node row its name and
/// role as `data-` attributes, for scripts and tests that read it through the DOM.
public enum StatusPage {
    public static func render(_ model: StatusPageModel) -> String {
        let verdict = verdict(model)
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="refresh" content="\(model.refreshSeconds)">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(model.cluster)): \(verdict.text)</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:1.5em;max-width:78em;color:#1f2328}
            table{border-collapse:collapse;margin:.4em 0 1.2em}td,th{border:1px solid #d0d7de;padding:.3em .6em;text-align:left}
            th{background:#f6f8fa}.ok{color:#1a7f37}.bad{color:#cf222e;font-weight:bold}.warn{color:#9a6700}
            #verdict{font-size:1.4em;padding:.4em .8em;border-radius:6px;display:inline-block}
            #verdict.ok{background:#dafbe1}#verdict.bad{background:#ffebe9}#verdict.warn{background:#fff8c5}
            #warnings li{margin:.2em 0}small{color:#656d76}
            </style></head><body>
            <h1>drctl · <code>\(escape(model.cluster))</code></h1>
            <p id="verdict" class="\(verdict.style)">\(verdict.text)</p>
            <p id="leader">\(leaderLine(model))</p>
            \(warnings(model))
            <h2>Nodes</h2>
            \(nodes(model))
            <h2>DNS</h2>
            \(records(model))
            <h2>Newest backups</h2>
            \(backups(model))
            <h2>Recent failovers</h2>
            \(failovers(model))
            <h2>Recent drills</h2>
            \(drills(model))
            <p><small>Served by <b>\(escape(model.servedBy))</b>'s agent at \(timestamp(model.generatedAt)) (UTC); reloads every \(model.refreshSeconds) s. \
            Objectives: RTO \(seconds(model.rto)), RPO \(seconds(model.rpo)). Read-only: changes go through <code>drctl</code>.</small></p>
            </body></html>

            """
    }

    /// One word for the whole cluster, the way `drctl status` judges it.
    static func verdict(_ model: StatusPageModel) -> (text: String, style: String) {
        let primaries = model.nodes.filter { $0.role == .primary }
        if primaries.count > 1 { return ("SPLIT BRAIN: \(primaries.map(\.name).joined(separator: ", ")) accept writes", "bad") }
        if !model.etcdReachable { return ("etcd unreachable", "bad") }
        guard let leader = model.leader, model.nodes.contains(where: { $0.name == leader.node && $0.role == .primary && $0.healthy }) else {
            return ("no writable primary", "bad")
        }
        return model.warnings.isEmpty ? ("healthy", "ok") : ("degraded", "warn")
    }

    static func leaderLine(_ model: StatusPageModel) -> String {
        guard let leader = model.leader else { return "No leader." }
        var line = "Leader <b>\(escape(leader.node))</b>, term \(leader.term)."
        if model.paused { line += " <span class=\"warn\">Automatic failover paused.</span>" }
        return line
    }

    static func warnings(_ model: StatusPageModel) -> String {
        guard !model.warnings.isEmpty else { return "<ul id=\"warnings\"></ul>" }
        return "<h2>Warnings</h2>\n<ul id=\"warnings\">" + model.warnings.map { "<li class=\"warn\">\(escape($0))</li>" }.joined() + "</ul>"
    }

    static func nodes(_ model: StatusPageModel) -> String {
        let rows = model.nodes.map { node in
            let role = node.role?.rawValue ?? "no record"
            let style = node.role == .primary || (node.role == .standby && node.healthy) ? "ok" : node.regionRole == "cold" && node.role == nil ? "" : "bad"
            let lag = node.role == .standby ? "\(node.lagBytes.map(bytes) ?? "?") / \(node.lagSeconds.map { String(format: "%.1f s", $0) } ?? "?")" : ""
            return """
                <tr data-node="\(escape(node.name))" data-role="\(escape(role))"><td>\(escape(node.region))<br><small>\(escape(node.regionRole))</small></td>\
                <td><b>\(escape(node.name))</b>\(node.leads ? " ★ leader" : "")</td><td class="\(style)">\(escape(role))\(node.role != nil && !node.healthy ? " (unhealthy)" : "")</td>\
                <td>\(lag)</td><td>\(node.timeline.map(String.init) ?? "")</td><td><code>\(node.lsn.map { "\($0)" } ?? "")</code></td></tr>
                """
        }
        let empty = model.emptyRegions.map { region in
            "<tr data-region=\"\(escape(region.name))\"><td>\(escape(region.name))<br><small>\(escape(region.role))</small></td><td colspan=\"5\"><small>no nodes configured</small></td></tr>"
        }
        return "<table id=\"nodes\"><tr><th>Region</th><th>Node</th><th>Role</th><th>Lag (bytes / seconds)</th><th>Timeline</th><th>LSN</th></tr>\n"
            + (rows + empty).joined(separator: "\n") + "</table>"
    }

    static func records(_ model: StatusPageModel) -> String {
        guard !model.records.isEmpty else { return "<p id=\"dns\">No managed DNS records.</p>" }
        let rows = model.records.map { record in
            let style = record.state == "in sync" ? "ok" : record.state == "failed" ? "bad" : ""
            return "<tr data-record=\"\(escape(record.name))\"><td><code>\(escape(record.name))</code></td><td>\(escape(record.wanted ?? "none"))</td>"
                + "<td class=\"\(style)\">\(escape(record.state))</td></tr>"
        }
        var table = "<table id=\"dns\"><tr><th>Record</th><th>Points at (the leader)</th><th>State</th></tr>\n" + rows.joined(separator: "\n") + "</table>"
        if model.records.contains(where: { $0.state == "unknown here" }) {
            let page = model.leaderPage.map { "<a href=\"\(escape($0))\">its page</a>" } ?? "its page"
            table += "<p><small>Only the leader's agent switches and checks records; \(page) shows their state.</small></p>"
        }
        return table
    }

    static func backups(_ model: StatusPageModel) -> String {
        guard !model.backups.isEmpty else { return "<p id=\"backups\">No backups in the repository.</p>" }
        let rows = model.backups.map { backup in
            "<tr data-kind=\"\(backup.kind.rawValue)\"><td>\(backup.kind.rawValue)</td><td><code>\(escape(backup.id))</code></td>"
                + "<td>\(escape(backup.finishedAt))</td><td>\(bytes(backup.size))</td><td>\(escape(backup.sourceNode))</td></tr>"
        }
        return "<table id=\"backups\"><tr><th>Kind</th><th>Backup</th><th>Finished</th><th>Size</th><th>From</th></tr>\n" + rows.joined(separator: "\n") + "</table>"
    }

    static func failovers(_ model: StatusPageModel) -> String {
        guard !model.failovers.isEmpty else { return "<p id=\"failovers\">No failover recorded.</p>" }
        let rows = model.failovers.map { failover in
            let lost = failover.dataLostSeconds.map { String(format: "%.2f s", $0) } ?? "unknown"
            let style = failover.rtoSeconds <= Double(model.rto.components.seconds) ? "ok" : "bad"
            return "<tr data-term=\"\(failover.term)\"><td>\(escape(failover.finishedAt))</td><td>\(escape(failover.previousPrimary ?? "?")) → <b>\(escape(failover.promoted))</b></td>"
                + "<td class=\"\(style)\">\(String(format: "%.2f s", failover.rtoSeconds))</td><td>\(lost)</td><td>\(escape(failover.reason))</td></tr>"
        }
        return "<table id=\"failovers\"><tr><th>When</th><th>Promoted</th><th>RTO</th><th>Data lost (RPO)</th><th>Why</th></tr>\n"
            + rows.joined(separator: "\n") + "</table>"
    }

    static func drills(_ model: StatusPageModel) -> String {
        guard !model.drills.isEmpty else { return "<p id=\"drills\">No drill reports in the repository.</p>" }
        let rows = model.drills.map { drill in
            let measured = { (value: Double?) in value.map { String(format: "%.2f s", $0) } ?? "—" }
            return "<tr data-drill=\"\(escape(drill.id))\"><td>\(escape(drill.startedAt))</td><td>\(escape(drill.drill))</td>"
                + "<td class=\"\(drill.passed ? "ok" : "bad")\">\(drill.passed ? "passed" : "FAILED")</td><td>\(measured(drill.rtoSeconds))</td><td>\(measured(drill.rpoSeconds))</td>"
                + "<td><a href=\"drills/\(escape(drill.id))/report.html\">report</a></td></tr>"
        }
        return "<table id=\"drills\"><tr><th>Started</th><th>Drill</th><th>Verdict</th><th>RTO</th><th>RPO</th><th></th></tr>\n"
            + rows.joined(separator: "\n") + "</table>"
    }

    static func bytes(_ value: UInt64) -> String { CloneProgress.size(value) }

    static func seconds(_ duration: Duration) -> String { "\(duration.components.seconds) s" }

    static func timestamp(_ date: Date) -> String {
        String(UTCTime.iso8601(date).dropLast()).replacing("T", with: " ")
    }

    static func escape(_ text: String) -> String { MarkupEscaping.escape(text) }
}
