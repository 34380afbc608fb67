import DRCore
import Foundation
import Logging
import Synchronization

/// One JSON object per log line (`log.format: json`), as Loki, Elastic and journald's JSON
/// parsers take them:
///
///     {"ts":"2026-12-07T08:30:00.123Z","level":"notice","node":"pg1","rule":"…","term":"42","msg":"promoted","logger":"drctl.agent"}
///
/// `ts` (UTC, milliseconds), `level`, `msg` and `logger` are always there; every metadata
/// field (`node`, `rule`, `term`, `error`, …) is a key of its own, its value a string.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let sink: JSONLogSink

    public init(label: String, level: Logger.Level, sink: JSONLogSink = .standardError) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata.merging(event.metadata ?? [:]) { $1 }.mapValues { "\($0)" }
        fields["ts"] = Self.timestamp(Date())
        fields["level"] = event.level.rawValue
        fields["msg"] = event.message.description
        fields["logger"] = label
        sink.write(Self.line(fields))
    }

    /// Fixed keys first, then the metadata in name order: lines diff and grep alike.
    static func line(_ fields: [String: String]) -> String {
        let first = ["ts", "level", "node", "rule", "term", "msg"]
        let order = first.filter { fields[$0] != nil } + fields.keys.filter { !first.contains($0) }.sorted()
        return "{" + order.map { "\(quote($0)):\(quote(fields[$0] ?? ""))" }.joined(separator: ",") + "}\n"
    }

    /// A JSON string: quotes, backslashes and control characters escaped (RFC 8259).
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func timestamp(_ date: Date) -> String {
        UTCTime.iso8601(date, fractional: true)
    }
}

/// Where JSON lines go: standard error, one whole line per write (lines from several
/// threads never interleave), or a buffer for tests.
public final class JSONLogSink: Sendable {
    private let capturing: Bool
    private let captured = Mutex<[String]>([])

    private init(capturing: Bool) { self.capturing = capturing }

    public static let standardError = JSONLogSink(capturing: false)
    /// Keeps the lines instead of writing them.
    public static func capturing() -> JSONLogSink { JSONLogSink(capturing: true) }

    public var lines: [String] { captured.withLock { $0 } }

    private static let stderrLock = Mutex(())

    func write(_ line: String) {
        if capturing {
            captured.withLock { $0.append(line) }
            return
        }
        Self.stderrLock.withLock { _ in
            var bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeMutableBytes { Foundation.write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return }
                offset += n
            }
        }
    }
}

extension LogConfig {
    /// Starts swift-log with this format and level (`override`: `--log-level` for one run).
    public func bootstrap(override: LogConfig.Level? = nil) {
        let levels = LogLevelSwitch.shared
        levels.start(Logger.Level(rawValue: (override ?? self.level).rawValue) ?? .info, pinned: override != nil)
        switch format {
        case .json: LoggingSystem.bootstrap { label in SwitchedLevelLogHandler(inner: JSONLogHandler(label: label, level: .trace), levels: levels) }
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = .trace
                return SwitchedLevelLogHandler(inner: handler, levels: levels)
            }
        }
    }
}
