/// A five-field cron expression (minute hour day-of-month month day-of-week, UTC), with
/// `*`, lists, ranges and steps, and the usual rule that when both day fields are
/// restricted either may match. Pure: times are minutes since the epoch.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    public let text: String
    let minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>
    let daysRestricted: Bool, weekdaysRestricted: Bool

    public var description: String { text }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public init(_ text: String) throws(ParseError) {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(message: "expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count) in \"\(text)\"")
        }
        self.text = text
        minutes = try Self.field(fields[0], 0...59, "minute")
        hours = try Self.field(fields[1], 0...23, "hour")
        days = try Self.field(fields[2], 1...31, "day of month")
        months = try Self.field(fields[3], 1...12, "month")
        weekdays = Set(try Self.field(fields[4], 0...7, "day of week").map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    static func field(_ text: String, _ range: ClosedRange<Int>, _ name: String) throws(ParseError) -> Set<Int> {
        var values = Set<Int>()
        for part in text.split(separator: ",").map(String.init) {
            let pieces = part.split(separator: "/", maxSplits: 1).map(String.init)
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { throw ParseError(message: "\(name): bad step in \"\(part)\"") }
                step = parsed
            }
            let span: ClosedRange<Int>
            if pieces[0] == "*" {
                span = range
            } else if let dash = pieces[0].firstIndex(of: "-") {
                guard let low = Int(pieces[0][..<dash]), let high = Int(pieces[0][pieces[0].index(after: dash)...]), low <= high,
                    range.contains(low), range.contains(high)
                else { throw ParseError(message: "\(name): bad range \"\(pieces[0])\" (allowed \(range))") }
                span = low...high
            } else {
                guard let value = Int(pieces[0]), range.contains(value) else { throw ParseError(message: "\(name): \"\(pieces[0])\" is not in \(range)") }
                span = value...(pieces.count == 2 ? range.upperBound : value)
            }
            values.formUnion(stride(from: span.lowerBound, through: span.upperBound, by: step))
        }
        return values
    }

    /// Whether the minute `minute` (since the epoch, UTC) matches.
    public func matches(minute: Int64) -> Bool {
        let civil = CivilTime(minutesSinceEpoch: minute)
        guard minutes.contains(civil.minute), hours.contains(civil.hour), months.contains(civil.month) else { return false }
        let dayOK = days.contains(civil.day), weekdayOK = weekdays.contains(civil.weekday)
        if daysRestricted && weekdaysRestricted { return dayOK || weekdayOK }
        return dayOK && weekdayOK
    }

    /// The latest matching minute at or before `minute`, looking back at most `limit` minutes.
    public func latest(atOrBefore minute: Int64, limit: Int64 = 366 * 24 * 60) -> Int64? {
        var m = minute
        while m >= minute - limit {
            if matches(minute: m) { return m }
            m -= 1
        }
        return nil
    }

    /// Matching minutes in (after, through], oldest first, at most `cap` of them.
    public func occurrences(after: Int64, through: Int64, cap: Int = 1000) -> [Int64] {
        var found: [Int64] = []
        var m = after + 1
        while m <= through, found.count < cap {
            if matches(minute: m) { found.append(m) }
            m += 1
        }
        return found
    }
}

/// UTC calendar fields of a minute since the epoch (proleptic Gregorian), without Foundation.
struct CivilTime {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int, weekday: Int

    init(minutesSinceEpoch: Int64) {
        let days = Int(minutesSinceEpoch >= 0 ? minutesSinceEpoch / 1440 : (minutesSinceEpoch - 1439) / 1440)
        let inDay = Int(minutesSinceEpoch - Int64(days) * 1440)
        hour = inDay / 60
        minute = inDay % 60
        weekday = ((days % 7) + 7 + 4) % 7  // 1970-01-01 was a Thursday (4)
        (year, month, day) = UTCTime.civilFromDays(days)
    }
}
