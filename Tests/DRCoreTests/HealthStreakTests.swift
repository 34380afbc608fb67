import DRCore
import Testing

/// The failure streak, check by check: the count the threshold reads resets on any success,
/// the first failure's instant holds through the streak (the evidence's "first failed
/// check"), and a standby's lost upstream is timed from the first check that saw it.
@Suite struct HealthStreakTests {
    /// One check: healthy, streaming (nil: not a standby), at (seconds).
    typealias Check = (healthy: Bool, streaming: Bool?, at: Double)

    static let rows: [(String, [Check], failed: Int, since: Double?, upstreamLost: Double?)] = [
        ("no checks", [], 0, nil, nil),
        ("healthy primary", [(true, nil, 1), (true, nil, 2)], 0, nil, nil),
        ("three failures: counted from the first", [(true, nil, 1), (false, nil, 2), (false, nil, 3), (false, nil, 4)], 3, 2, nil),
        ("a success ends the streak", [(false, nil, 1), (false, nil, 2), (true, nil, 3)], 0, nil, nil),
        ("a new streak starts anew", [(false, nil, 1), (true, nil, 2), (false, nil, 3)], 1, 3, nil),
        ("a standby that stopped streaming: from the first check that saw it", [(true, true, 1), (true, false, 2), (true, false, 3)], 0, nil, 2),
        ("streaming again ends it", [(true, false, 1), (true, true, 2)], 0, nil, nil),
        ("a standby that went down is no longer timed as one", [(true, false, 1), (false, nil, 2)], 1, 2, nil),
    ]

    @Test(arguments: rows.indices) func streak(_ index: Int) {
        let (name, checks, failed, since, upstreamLost) = Self.rows[index]
        var streak = HealthStreak()
        for check in checks {
            streak.record(healthy: check.healthy, streaming: check.streaming, at: .seconds(check.at), wallMillis: Int64(check.at * 1000) + 1_000_000)
        }
        #expect(streak.failedChecks == failed, "\(name)")
        #expect(streak.failingSince?.at == since.map { .seconds($0) }, "\(name)")
        #expect(streak.failingSince?.millis == since.map { Int64($0 * 1000) + 1_000_000 }, "\(name): the wall clock of the same check")
        #expect(streak.upstreamLostSince == upstreamLost.map { .seconds($0) }, "\(name)")
    }
}
