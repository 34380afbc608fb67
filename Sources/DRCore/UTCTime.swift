import Foundation

/// Wall-clock times as text, in UTC: ISO 8601 for records and reports, the compact form
/// for identifiers and AWS signatures, and a parser for both and for PostgreSQL's own.
///
/// Pure arithmetic on purpose: Foundation's `ISO8601DateFormatter` and `DateFormatter` go
/// through ICU on Linux, whose time-zone and locale tables made 3 MiB of the agent's
/// resident memory (docs/measurements.md, Footprint), and each formatter costs a
/// time-zone lookup to create. A UTC calendar date needs none of that.
public enum UTCTime {
    /// `2026-12-07T23:53:53Z`, or with `fractional` milliseconds `2026-12-07T23:53:53.123Z`
    /// (what `ISO8601DateFormatter` wrote, with and without `.withFractionalSeconds`).
    public static func iso8601(_ date: Date, fractional: Bool = false) -> String {
        let (millis, parts) = components(date, roundingToMillis: fractional)
        var text = "\(pad(parts.year, 4))-\(pad(parts.month))-\(pad(parts.day))T\(pad(parts.hour))"
        text += ":\(pad(parts.minute)):\(pad(parts.second))"
        if fractional { text += "." + pad(Int(millis), 3) }
        return text + "Z"
    }

    /// `20261207T235353Z`: AWS's `X-Amz-Date`, and the stem of backup and drill ids.
    public static func compact(_ date: Date) -> String {
        let (_, parts) = components(date, roundingToMillis: false)
        return "\(pad(parts.year, 4))\(pad(parts.month))\(pad(parts.day))T\(pad(parts.hour))\(pad(parts.minute))\(pad(parts.second))Z"
    }

    /// A time written `YYYY-MM-DD`, `T` or a space, `HH:MM:SS`, optional fraction, then `Z`
    /// or an offset `±HH`, `±HHMM` or `±HH:MM` — ISO 8601 as drctl and others write it, and
    /// PostgreSQL's `timestamptz` output (`2026-12-07 23:53:53.123456+00`). Nil otherwise.
    public static func parse(_ text: String) -> Date? {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.digits(4), scanner.skip("-"), let month = scanner.digits(2), scanner.skip("-"), let day = scanner.digits(2),
            scanner.skip("T") || scanner.skip("t") || scanner.skip(" "),
            let hour = scanner.digits(2), scanner.skip(":"), let minute = scanner.digits(2), scanner.skip(":"), let second = scanner.digits(2),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var fraction = 0.0
        if scanner.skip(".") || scanner.skip(",") {
            var scale = 0.1
            var any = false
            while let digit = scanner.digits(1) {
                fraction += Double(digit) * scale
                scale /= 10
                any = true
            }
            guard any else { return nil }
        }
        var offsetSeconds = 0
        if scanner.skip("Z") || scanner.skip("z") {
        } else if let sign = scanner.sign() {
            guard let hours = scanner.digits(2), hours < 24 else { return nil }
            _ = scanner.skip(":")
            let minutes = scanner.digits(2) ?? 0
            guard minutes < 60 else { return nil }
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard scanner.atEnd else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    struct Parts: Equatable {
        var year, month, day, hour, minute, second: Int
    }

    /// The UTC calendar fields of `date`, and its milliseconds within the second: to the
    /// nearest millisecond when they are written, else the second it falls in (as
    /// Foundation's formatter does both).
    static func components(_ date: Date, roundingToMillis: Bool) -> (millis: Int64, parts: Parts) {
        let total = Int64((date.timeIntervalSince1970 * 1000).rounded(roundingToMillis ? .toNearestOrAwayFromZero : .down))
        let millis = ((total % 1000) + 1000) % 1000
        let seconds = (total - millis) / 1000
        let days = Int((seconds - ((seconds % 86_400) + 86_400) % 86_400) / 86_400)
        let ofDay = Int(seconds - Int64(days) * 86_400)
        let (year, month, day) = civilFromDays(days)
        return (millis, Parts(year: year, month: month, day: day, hour: ofDay / 3600, minute: ofDay / 60 % 60, second: ofDay % 60))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date `days` after 1970-01-01.
    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func pad(_ value: Int, _ width: Int = 2) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Reads ASCII digits and signs off a byte array, front to back.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Character) -> Bool {
            guard index < bytes.count, let ascii = character.asciiValue, bytes[index] == ascii else { return false }
            index += 1
            return true
        }

        /// Exactly `count` digits as a number, or nil (nothing consumed).
        mutating func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += count
            return value
        }

        mutating func sign() -> Int? {
            if skip("+") { return 1 }
            if skip("-") { return -1 }
            return nil
        }
    }
}
