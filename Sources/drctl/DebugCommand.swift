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
        let standing = StandingOrder.all.map { ($0.id, $0.summary) }
        if json {
            try JSONOutput.print(
                rows.map { ["order": "\($0.0)", "id": $0.1, "summary": $0.2] } + standing.map { ["order": "standing", "id": $0.0, "summary": $0.1] })
        } else {
            print("decide() takes the first rule that applies:\n")
            print(TextTable.render(["#", "RULE", "WHAT IT DOES"], rows.map { ["\($0.0)", $0.1, $0.2] }))
            print("\nand adds, beside whichever rule decides, the standing orders:\n")
            print(TextTable.render(["ORDER", "WHAT IT DOES"], standing.map { [$0.0, $0.1] }))
        }
    }
}
