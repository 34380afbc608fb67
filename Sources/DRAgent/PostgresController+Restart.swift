import DRCore
import DRSystem
import Foundation

extension PostgresController {
    /// A fast shutdown, then a start that waits until the server answers. As the primary,
    /// `standby.signal` is lifted for this start only and written back once it runs; if the
    /// start fails it is written back at once, so no later start comes up writable.
    public func restartInPlace(asPrimary: Bool) async throws {
        guard let dataDir = node.dataDir else {
            throw AgentError.cannotRestart(node: node.name, detail: "no data_dir configured for \(node.name)")
        }
        let pgctl = try PostgresBinaries.binary("pg_ctl")
        if postmasterRunning() != false {
            try await CommandRunner.run([pgctl, "-D", dataDir, "-m", "fast", "-t", "60", "-w", "stop"], as: .forPostgres)
        }
        let signal = "\(dataDir)/standby.signal"
        if asPrimary {
            if FileManager.default.fileExists(atPath: signal) {
                do { try FileManager.default.removeItem(atPath: signal) } catch {
                    throw AgentError.cannotRestart(node: node.name, detail: "cannot remove \(signal) to start as the primary: \(error)")
                }
            }
        } else {
            try await writeStandbySignal(dataDir: dataDir)
        }
        do {
            try await CommandRunner.run([pgctl, "-D", dataDir, "-l", "\(dataDir)/drctl-restart.log", "-t", "60", "-w", "start"], as: .forPostgres)
        } catch {
            if asPrimary { try? await writeStandbySignal(dataDir: dataDir) }
            throw error
        }
        if asPrimary { try guardRestart() }
    }
}
