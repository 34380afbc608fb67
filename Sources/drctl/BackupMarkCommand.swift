import ArgumentParser
import DRBackup
import DRCommandLine
import DRCore
import DRPostgres
import Foundation

/// `drctl backup mark NAME`: a named restore point on the primary, for
/// `drctl restore --target-name NAME` (before a migration, a bulk delete, a release).
struct BackupMarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark",
        abstract: "Create a named restore point on the primary (pg_create_restore_point) and switch WAL so it is archived; restore to it with --target-name.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The restore point's name (at most 63 bytes).") var name: String

    func run() async throws {
        let (_, config) = try options.loadConfig()
        guard !name.isEmpty, name.utf8.count < 64 else { throw CLIExit.badInput("a restore point's name has 1 to 63 bytes, found \(name.utf8.count)") }
        let observations = await NodeProbe(connectTimeout: .seconds(2)).observeAll(config)
        guard
            let primary = config.nodes.map(\.node).first(where: { node in
                if case .primary? = observations.first(where: { $0.node == node.name })?.result { true } else { false }
            })
        else {
            throw CLIExit.failed("no primary answered: a restore point is made on the primary (`drctl status` shows the cluster)")
        }
        do {
            let lsn = try await PGConnection.withSession(node: primary.name, conninfo: primary.connection.rendered()) { session in
                let lsn = try await session.query("SELECT pg_create_restore_point($1)::text AS lsn", [name]).single().string("lsn")
                // The point is in the current segment: switching hands it to archive_command now.
                _ = try await session.query("SELECT pg_switch_wal()")
                return lsn
            }
            if options.json { return try JSONOutput.print(["name": name, "lsn": lsn, "node": primary.name]) }
            print("restore point \(name) at \(lsn) on \(primary.name); restore to it with: drctl restore --target-name \(name) --to DIR")
        } catch {
            throw CLIExit.failed("creating restore point \(name) on \(primary.name): \(error)")
        }
    }
}
