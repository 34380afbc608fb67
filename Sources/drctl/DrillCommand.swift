import ArgumentParser
import DRBackup
import DRCore
import DRDrill
import DRLabDrill
import Foundation

struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill", abstract: "DR drills: run one from a drills/*.yaml file, list past runs, show a report.",
        subcommands: [DrillRunCommand.self, DrillListCommand.self, DrillReportCommand.self])
}

struct DrillRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a drill and write its report (JSON + HTML with the timeline); exit 1 when it fails its objectives or validations.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The drill file, e.g. drills/region-outage.yaml.") var file: String
    @Option(help: "The cluster's name: required by a failover drill on a real cluster (target: cluster), which crashes its primary.")
    var confirm: String?

    func run() async throws {
        let (configFile, config) = try options.loadConfig()
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIExit.badInput("cannot read the drill file \(file)") }
        let spec: DrillSpec
        do { spec = try DrillLoader.load(yaml: text, file: file) } catch { throw CLIExit.badInput("\(error)") }
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let runner = DrillRunner(
            config: config, configFile: URL(fileURLWithPath: configFile).standardizedFileURL.path, drctl: binary,
            faultDrill: LabFailoverDrill(), confirmedCluster: confirm)
        let quiet = options.json
        let outcome: DrillRunner.Outcome
        do {
            outcome = try await runner.run(spec) { line in if !quiet { print("  \(line)") } }
        } catch {
            throw CLIExit.failed("\(error)")
        }
        let report = outcome.report
        if options.json {
            try JSONOutput.print(report)
        } else {
            print(DrillSummary.text(report, html: outcome.html, json: outcome.json))
        }
        if !report.passed { throw CLIExit.unhealthy }
    }
}

enum DrillSummary {
    static func text(_ report: DrillReport, html: String, json: String) -> String {
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
        let now = ISO8601DateFormatter().string(from: Date())
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
