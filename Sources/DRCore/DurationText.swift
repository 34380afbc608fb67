/// The duration syntax of drctl's configuration and CLI: a number and a unit, e.g. `500ms`,
/// `30s`, `5m`, `1h`, `1.5s`; several may be concatenated (`1m30s`).
public enum DurationText {
    private static let units: [(suffix: String, nanoseconds: Double)] = [
        // Longest suffixes first so "ms" is never read as "m".
        ("ms", 1e6), ("us", 1e3), ("ns", 1), ("h", 3600e9), ("m", 60e9), ("s", 1e9),
    ]

    /// Parses a duration; nil when the text is not of the form above or is negative.
    public static func parse(_ text: String) -> Duration? {
        var rest = Substring(text.trimming(" \t\n\r"))
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let amount = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.suffix) }) else { return nil }
            rest = rest.dropFirst(unit.suffix.count)
            total += amount * unit.nanoseconds
        }
        guard total.isFinite, total < 1e18 else { return nil }
        return .nanoseconds(Int64(total.rounded()))
    }

    /// Formats a duration the way an operator reads it: `250ms`, `7s`, `1.5s`, `5m`, `1h30m`.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        if ms < 0 { return "-" + format(.milliseconds(-ms)) }
        if ms < 1000 { return "\(ms)ms" }
        if ms < 60_000 {
            return ms % 1000 == 0 ? "\(ms / 1000)s" : trimmed(Double(ms) / 1000) + "s"
        }
        let seconds = ms / 1000
        let hours = seconds / 3600, minutes = seconds % 3600 / 60, secs = seconds % 60
        var text = ""
        if hours > 0 { text += "\(hours)h" }
        if minutes > 0 { text += "\(minutes)m" }
        if secs > 0 { text += "\(secs)s" }
        return text
    }

    private static func trimmed(_ value: Double) -> String {
        var text = String(Double((value * 100).rounded()) / 100)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }
}

extension Duration {
    /// Whole milliseconds, truncated.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole nanoseconds, truncated.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Seconds as a floating-point number, for JSON and arithmetic on budgets.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
