import DRCore
import Foundation
import Logging

/// Every agent's log lines in one list, stamped with the manual clock: what a failing test
/// prints to show what each agent saw and did.
public final class LogRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    let clock: ManualClock

    init(clock: ManualClock) { self.clock = clock }

    public var text: String { lock.withLock { lines.joined(separator: "\n") } }

    /// Lines containing `fragment`.
    public func lines(containing fragment: String) -> [String] { lock.withLock { lines.filter { $0.contains(fragment) } } }

    func append(_ line: String) { lock.withLock { lines.append("\(clock.now) \(line)") } }

    func logger(_ node: String) -> Logger {
        Logger(label: "drctl.\(node)") { _ in Handler(recorder: self, node: node) }
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        let node: String
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            recorder.append("\(node) \(event.level) \(event.message)\(fields.isEmpty ? "" : " " + fields.joined(separator: " "))")
        }
    }
}
