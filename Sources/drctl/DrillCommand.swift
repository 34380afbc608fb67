import ArgumentParser
import DRBackup
import DRCommandLine
import DRCore
import DRDrill
import Foundation

struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill", abstract: "DR drills: run one from a drills/*.yaml file, list past runs, show a report.",
        subcommands: [DrillRunCommand.self, DrillListCommand.self, DrillReportCommand.self])
}

struct DrillRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a drill and write its report (JSON + HTML with the timeline); exit 1 when it fails its objectives or validations.",
        discussion: "Drills with target: lab inject faults into the lab and run with drctl-lab drill run.")
    @OptionGroup var options: DrillRunOptions

    func run() async throws {
        try await options.run(drctl: CommandMain.executable) { spec in
            guard spec.target != .lab else {
                throw CLIExit.badInput(
                    "\(options.file) is a lab drill (target: lab): it injects faults into the lab, which only drctl-lab does: drctl-lab drill run \(options.file)")
            }
        }
    }
}

struct DrillListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Past drill runs, oldest first.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let (_, config) = try options.loadConfig()
        let entries: [DrillReports.Entry]
        do { entries = try await DrillReports(repository: try BackupCommand.repository(config)).list() } catch { throw CLIExit.failed("\(error)") }
        if options.json { return try JSONOutput.print(entries) }
        if entries.isEmpty { return print("no drills run yet: `drctl drill run drills/restore-latest.yaml`") }
        print(
            TextTable.render(
                ["ID", "DRILL", "RESULT", "RTO", "RPO", "REPORT"],
                entries.map { e in
                    [
                        e.id, e.drill, e.passed ? "passed" : "FAILED", e.rtoSeconds.map { String(format: "%.2fs", $0) } ?? "-",
                        e.rpoSeconds.map { String(format: "%.2fs", $0) } ?? "-", e.reportHTML,
                    ]
                }))
    }
}

struct DrillReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "One drill run's report, or with --index every run on one HTML page (RTO/RPO trends against the objectives).")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The run id (`drctl drill list`).") var id: String?
    @Flag(help: "Every run on one HTML page, printed (or written with --out).") var index = false
    @Option(help: "With --index: a directory to write index.html into, with a copy of each run's report beside it (a folder to hand to an auditor).")
    var out: String?

    func validate() throws {
        if index == (id != nil) { throw ValidationError("give a run id, or --index for every run") }
        if out != nil, !index { throw ValidationError("--out goes with --index") }
    }

    func run() async throws {
        let (_, config) = try options.loadConfig()
        let reports = DrillReports(repository: try BackupCommand.repository(config))
        guard let id else { return try await writeIndex(reports, cluster: config.cluster) }
        guard let report = try? await reports.report(id) else { throw CLIExit.failed("no drill run \(id) (`drctl drill list` shows them)") }
        if options.json { return try JSONOutput.print(report) }
        print(DrillSummary.text(report, html: reports.link(id, "report.html"), json: reports.link(id, "report.json")))
        if !report.passed { throw CLIExit.unhealthy }
    }

    func writeIndex(_ reports: DrillReports, cluster: String) async throws {
        var runs: [DrillReport] = []
        do {
            for entry in try await reports.list() { if let report = try await reports.report(entry.id) { runs.append(report) } }
        } catch { throw CLIExit.failed("\(error)") }
        let now = UTCTime.iso8601(Date())
        guard let out else {
            // Printed: links to the reports where they are (a file, or the bucket's URL).
            print(
                DrillIndexHTML.render(cluster: cluster, reports: runs, generatedAt: now) { run in
                    let link = reports.link(run.id, "report.html")
                    return link.hasPrefix("/") ? "file://\(link)" : link
                }, terminator: "")
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for run in runs {
                guard let page = try await reports.html(run.id) else { continue }
                try page.write(to: URL(fileURLWithPath: "\(out)/\(run.id).html"), options: .atomic)
            }
            let page = DrillIndexHTML.render(cluster: cluster, reports: runs, generatedAt: now) { "\($0.id).html" }
            try page.write(toFile: "\(out)/index.html", atomically: true, encoding: .utf8)
        } catch { throw CLIExit.failed("writing the index into \(out): \(error)") }
        print("wrote \(out)/index.html: \(runs.count) run(s), each report beside it")
    }
}
