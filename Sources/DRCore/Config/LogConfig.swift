/// `log:` — how agents and watchdogs write their log: `format: text|json` (one JSON object
/// per line, for Loki, Elastic or journald) and `level` (the least severe level written;
/// `drctl agent --log-level` overrides it for one run).
public struct LogConfig: Sendable, Equatable {
    public enum Format: String, Sendable, Equatable, CaseIterable {
        case text, json
    }

    /// swift-log's levels, least severe first.
    public enum Level: String, Sendable, Equatable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    public var format: Format
    public var level: Level

    public init(format: Format = .text, level: Level = .info) {
        self.format = format
        self.level = level
    }

    static func parse(_ field: YAMLField) -> LogConfig? {
        guard field.isPresent else { return LogConfig() }
        guard let object = field.object(keys: ConfigKeys.log) else { return nil }
        var config = LogConfig()
        if object.has("format") {
            guard let format = object["format"].choice(Format.self) else { return nil }
            config.format = format
        }
        if object.has("level") {
            guard let level = object["level"].choice(Level.self) else { return nil }
            config.level = level
        }
        return config
    }
}
