import ArgumentParser
import DRCommandLine
import DRCore

struct DebugCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug", abstract: "Look inside drctl's decisions.", subcommands: [DebugRules.self])
}

struct DebugRules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Print the failover rule table in the order decide() applies it.")

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let rows = FailoverRule.table.enumerated().map { index, rule in (index + 1, rule.id, rule.summary) }
        if json {
            try JSONOutput.print(rows.map { ["order": "\($0.0)", "id": $0.1, "summary": $0.2] })
        } else {
            print("decide() takes the first rule that applies:\n")
            print(TextTable.render(["#", "RULE", "WHAT IT DOES"], rows.map { ["\($0.0)", $0.1, $0.2] }))
        }
    }
}
