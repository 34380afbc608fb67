import DRCore
import Testing

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)),
        ("30s", .seconds(30)),
        ("5m", .seconds(300)),
        ("1h", .seconds(3600)),
        ("1.5s", .milliseconds(1500)),
        ("1m30s", .seconds(90)),
        ("0s", .zero),
        (" 2s ", .seconds(2)),
        ("250us", .microseconds(250)),
    ])
    func parses(text: String, expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test(arguments: ["", "5", "s", "5 s", "-5s", "5d", "5sec", "1.2.3s", "ms", "5s5"])
    func rejects(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test(arguments: [
        (Duration.milliseconds(250), "250ms"),
        (.seconds(7), "7s"),
        (.milliseconds(1500), "1.5s"),
        (.seconds(300), "5m"),
        (.seconds(5400), "1h30m"),
        (.seconds(3661), "1h1m1s"),
        (.zero, "0ms"),
    ])
    func formats(duration: Duration, text: String) {
        #expect(DurationText.format(duration) == text)
    }
}
