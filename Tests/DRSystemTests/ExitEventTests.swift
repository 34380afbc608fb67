import DRSystem
import Foundation
import Testing

/// The leader's agent waits on its postmaster with `exitEvent`: it must wake when the
/// process exits (even as an unreaped zombie, as a killed postmaster often is) and not
/// before, and give up after its limit.
@Suite(.timeLimit(.minutes(1))) struct ExitEventTests {
    @Test func wakesWhenTheProcessExitsAndOnlyThen() async throws {
        let log = NSTemporaryDirectory() + "drctl-exit-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let short = try ProcessControl.spawnDaemon(["sleep", "0.2"], logFile: log)
        #expect(await ProcessControl.exitEvent(short, within: .seconds(30)), "woken by the exit, long before the limit")
        let long = try ProcessControl.spawnDaemon(["sleep", "30"], logFile: log)
        defer { kill(long, SIGKILL) }
        #expect(await !ProcessControl.exitEvent(long, within: .milliseconds(200)), "still running at the limit")
        kill(long, SIGKILL)
        #expect(await ProcessControl.exitEvent(long, within: .seconds(30)))
    }
}
