import DRCore
import Testing

@Suite struct ScheduleTests {
    // 2026-11-23 (a Monday) 02:00 UTC, in minutes since the epoch.
    static let monday0200: Int64 = 1_795_399_200 / 60

    @Test func cronFieldsMatchAsCronDoes() throws {
        let nightly = try CronSchedule("0 2 * * *")
        #expect(nightly.matches(minute: Self.monday0200))
        #expect(!nightly.matches(minute: Self.monday0200 + 1))
        let weekdays = try CronSchedule("*/15 9-17 * * 1-5")
        #expect(weekdays.matches(minute: Self.monday0200 + 7 * 60 + 45), "Monday 09:45")
        #expect(!weekdays.matches(minute: Self.monday0200 + 7 * 60 + 50))
        #expect(!weekdays.matches(minute: Self.monday0200 + 5 * 1440 + 8 * 60), "Saturday 10:00")
        let sunday = try CronSchedule("0 3 * * 7")
        #expect(sunday.matches(minute: Self.monday0200 + 6 * 1440 + 60), "7 is Sunday too")
        let either = try CronSchedule("0 0 1 * 1")
        #expect(either.matches(minute: Self.monday0200 - 120), "day-of-month and day-of-week restricted: either matches (a Monday)")
        #expect(either.matches(minute: Self.monday0200 + 8 * 1440 - 120), "the 1st of December (a Tuesday)")
    }

    @Test func badExpressionsSayWhy() {
        for (text, hint) in [("0 2 * *", "5 fields"), ("61 * * * *", "minute"), ("0 2 * * 8", "day of week"), ("*/0 * * * *", "step"), ("5-1 * * * *", "range")] {
            do {
                _ = try CronSchedule(text)
                Issue.record("\(text) must be refused")
            } catch {
                #expect(error.message.contains(hint), "\(text): \(error.message)")
            }
        }
    }

    @Test func aJobRunsItsLatestOccurrenceAndReportsTheMissedOnes() throws {
        let job = ScheduledJob(name: "nightly", cron: try CronSchedule("0 2 * * *"), action: .backup(.logical))
        #expect(job.due(now: Self.monday0200 + 30, lastScheduledMinute: nil) == .run(minute: Self.monday0200, missed: []), "first run: at once")
        #expect(job.due(now: Self.monday0200 + 30, lastScheduledMinute: Self.monday0200) == .notDue, "already run")
        let threeDaysLater = Self.monday0200 + 3 * 1440 + 5
        #expect(
            job.due(now: threeDaysLater, lastScheduledMinute: Self.monday0200)
                == .run(minute: Self.monday0200 + 3 * 1440, missed: [Self.monday0200 + 1440, Self.monday0200 + 2 * 1440]),
            "two nights missed: reported, only the latest runs")
    }

    @Test func schedulesParseFromTheConfig() throws {
        let yaml =
            ConfigFixtures.valid + """

                schedules:
                  - {name: nightly, cron: "0 2 * * *", backup: logical}
                  - {name: drill, cron: "0 4 * * 0", drill: drills/restore-latest.yaml}
                """
        let config = try ConfigLoader.load(yaml: yaml, file: "c.yaml")
        #expect(config.schedules.map(\.name) == ["nightly", "drill"])
        #expect(config.schedules[1].action == .drill("drills/restore-latest.yaml"))
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: ConfigFixtures.valid + "\nschedules:\n  - {name: x, cron: \"0 2 * *\", backup: logical}\n", file: "c.yaml") }
    }
}
