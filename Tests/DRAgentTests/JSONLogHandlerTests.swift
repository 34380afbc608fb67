import DRAgent
import DRCore
import Foundation
import Logging
import Testing

/// `log.format: json` (issue 28): every line one JSON object a log shipper parses, with the
/// timestamp, level, node, rule, term and message as their own keys; `log.level` filters.
@Suite struct JSONLogHandlerTests {
    @Test func everyLineIsOneJSONObjectWithTheOperatorsFields() throws {
        let sink = JSONLogSink.capturing()
        var log = Logger(label: "drctl.agent") { label in JSONLogHandler(label: label, level: .info, sink: sink) }
        log[metadataKey: "node"] = "pg1"
        log.notice("leader key acquired", metadata: ["term": "42", "rule": "primary-lost-promote"])
        log.error("action failed: \"pg_ctl\" said\nno\tway \u{1}", metadata: ["error": "exit 1"])
        log.debug("below the level: not written")
        #expect(sink.lines.count == 2)
        let objects = try sink.lines.map { line in
            #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1, "one line per event: \(line)")
            return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        }
        #expect(objects[0]["level"] == "notice" && objects[0]["node"] == "pg1" && objects[0]["term"] == "42")
        #expect(objects[0]["rule"] == "primary-lost-promote" && objects[0]["msg"] == "leader key acquired" && objects[0]["logger"] == "drctl.agent")
        #expect(objects[1]["msg"] == "action failed: \"pg_ctl\" said\nno\tway \u{1}", "escaped and read back exactly")
        #expect(objects[1]["error"] == "exit 1" && objects[1]["node"] == "pg1")
        let stamp = try #require(objects[0]["ts"])
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let when = try #require(parser.date(from: stamp), "RFC 3339 with milliseconds: \(stamp)")
        #expect(abs(when.timeIntervalSinceNow) < 60 && stamp.hasSuffix("Z"))
    }

    @Test func theConfigNamesTheFormatAndLevel() throws {
        #expect(LogConfig.Level.allCases.map(\.rawValue) == Logger.Level.allCases.map(\.rawValue), "the same names as swift-log's levels")
    }
}
