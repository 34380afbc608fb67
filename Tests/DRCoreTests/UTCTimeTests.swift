import DRCore
import Foundation
import Testing

@Suite struct UTCTimeTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z", "19700101T000000Z"),
        (951_782_400, "2000-02-29T00:00:00Z", "20000229T000000Z"),
        (1_765_151_633.123, "2025-12-07T23:53:53Z", "20251207T235353Z"),
        (4_107_542_399, "2100-02-28T23:59:59Z", "21000228T235959Z"),
        (-1, "1969-12-31T23:59:59Z", "19691231T235959Z"),
    ])
    func formats(seconds: Double, iso: String, compact: String) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(UTCTime.iso8601(date) == iso)
        #expect(UTCTime.compact(date) == compact)
    }

    /// As Foundation's formatter writes them: milliseconds to the nearest, whole seconds
    /// without them.
    @Test(arguments: [
        (1_765_151_633.1239, "2025-12-07T23:53:53.124Z", "2025-12-07T23:53:53Z"), (5.007, "1970-01-01T00:00:05.007Z", "1970-01-01T00:00:05Z"),
        (1.9996, "1970-01-01T00:00:02.000Z", "1970-01-01T00:00:01Z"),
    ])
    func milliseconds(seconds: Double, withMillis: String, without: String) {
        #expect(UTCTime.iso8601(Date(timeIntervalSince1970: seconds), fractional: true) == withMillis)
        #expect(UTCTime.iso8601(Date(timeIntervalSince1970: seconds)) == without)
    }

    /// Foundation's formatter is the reference: the same text for a spread of instants
    /// over three centuries, and each parsed back to its second.
    @Test func agreesWithFoundationsFormatter() {
        let reference = ISO8601DateFormatter()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let seconds = Double(Int64(state >> 33) % 10_000_000_000 - 2_000_000_000)
            let date = Date(timeIntervalSince1970: seconds)
            #expect(UTCTime.iso8601(date) == reference.string(from: date), "\(seconds)")
            #expect(UTCTime.parse(UTCTime.iso8601(date)) == date, "\(seconds)")
        }
    }

    @Test(arguments: [
        ("2026-12-07T23:53:53Z", 1_796_687_633.0),
        ("2026-12-07t23:53:53z", 1_796_687_633.0),
        ("2026-12-07T23:53:53.5Z", 1_796_687_633.5),
        ("2026-12-08T01:53:53+02:00", 1_796_687_633.0),
        ("2026-12-07T18:53:53-0500", 1_796_687_633.0),
        ("2026-12-07 23:53:53+00", 1_796_687_633.0),
        ("2026-12-07 23:53:53.250000+00", 1_796_687_633.25),
    ])
    func parses(text: String, seconds: Double) {
        #expect(UTCTime.parse(text)?.timeIntervalSince1970 == seconds, "\(text)")
    }

    @Test(arguments: [
        "", "2026-12-07", "2026-12-07T23:53:53", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-12-07T24:00:00Z",
        "2026-12-07T23:53:53Zjunk", "2026-12-07T23:53:53.Z", "26-12-07T23:53:53Z", "2026-12-07T23:53:53+2",
    ])
    func refuses(text: String) {
        #expect(UTCTime.parse(text) == nil, "\(text)")
    }
}
