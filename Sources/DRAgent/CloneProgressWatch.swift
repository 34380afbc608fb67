import DRCore
import DRSystem
import Foundation

/// Reports a standby build's progress while it runs — at once, every `interval` and at the
/// end — from what has arrived in the data directory.
struct CloneProgressWatch: Sendable {
    var source: ReplicaConfig.Source
    var dataDir: String
    var expected: UInt64?
    var interval: Duration = .seconds(10)
    var report: @Sendable (CloneProgress) -> Void

    func during<T: Sendable>(_ operation: () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        let watcher = Task { [self] in
            while !Task.isCancelled {
                report(await measure(since: started))
                try? await Task.sleep(for: interval)
            }
        }
        let result: T
        do {
            result = try await operation()
        } catch {
            watcher.cancel()
            throw error
        }
        watcher.cancel()
        // A measurement in flight lands first: the last word is the final size.
        await watcher.value
        report(await measure(since: started))
        return result
    }

    private func measure(since started: ContinuousClock.Instant) async -> CloneProgress {
        let bytes = await DataDirectory.size(dataDir)
        return CloneProgress(
            source: source, phase: source == .primary ? .copying : .restoring, bytes: bytes, expected: expected, elapsed: ContinuousClock.now - started)
    }
}
