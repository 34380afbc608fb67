import DRCore
import DRDrill
import Foundation

/// A drill file read and run, the way `drctl drill run` and `drctl-lab drill run` both do.
public enum DrillFile {
    public static func load(_ file: String) throws -> DrillSpec {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIExit.badInput("cannot read the drill file \(file)") }
        do { return try DrillLoader.load(yaml: text, file: file) } catch { throw CLIExit.badInput("\(error)") }
    }

    /// Runs `spec`, prints its summary (or the report as JSON); exit 1 when it failed.
    public static func run(_ spec: DrillSpec, with runner: DrillRunner, json: Bool) async throws {
        let outcome: DrillRunner.Outcome
        do {
            outcome = try await runner.run(spec) { line in if !json { print("  \(line)") } }
        } catch {
            throw CLIExit.failed("\(error)")
        }
        if json {
            try JSONOutput.print(outcome.report)
        } else {
            print(DrillSummary.text(outcome.report, html: outcome.html, json: outcome.json))
        }
        if !outcome.report.passed { throw CLIExit.unhealthy }
    }
}
