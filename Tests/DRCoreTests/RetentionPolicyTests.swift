import DRCore
import Testing

@Suite struct RetentionPolicyTests {
    static let day: Int64 = 86400
    static let now: Int64 = 1_800_000_000

    static func daily(_ count: Int, valid: Bool = true) -> [RetentionPolicy.Item] {
        (0..<count).map { RetentionPolicy.Item(id: "d\($0)", finishedAt: now - Int64($0) * day - 60, valid: valid) }
    }

    @Test func keepsTheNewestAndOnePerBucket() {
        let policy = RetentionPolicy(keepLast: 2, hourly: 0, daily: 3, weekly: 2, monthly: 0)
        let plan = policy.plan(Self.daily(20), now: Self.now)
        #expect(Set(plan.keep.keys) == ["d0", "d1", "d2", "d7"], "newest 2, days 0-2, weeks 0-1 (d0 and d7)")
        #expect(plan.remove.first == "d19" && plan.remove.count == 16, "oldest first")
    }

    @Test func neverRemovesTheOnlyValidBackup() {
        let policy = RetentionPolicy(keepLast: 1, hourly: 0, daily: 0, weekly: 0, monthly: 0)
        var items = Self.daily(3, valid: false)
        items.append(.init(id: "old-good", finishedAt: Self.now - 400 * Self.day, valid: true))
        let plan = policy.plan(items, now: Self.now)
        #expect(plan.keep.keys.contains("old-good"))
        #expect(Set(plan.remove) == ["d0", "d1", "d2"], "corrupt ones go")
    }

    @Test func severalBackupsInOneBucketKeepTheNewest() {
        let policy = RetentionPolicy(keepLast: 1, hourly: 2, daily: 0, weekly: 0, monthly: 0)
        let items = [
            RetentionPolicy.Item(id: "a", finishedAt: Self.now - 100, valid: true),
            RetentionPolicy.Item(id: "b", finishedAt: Self.now - 200, valid: true),
            RetentionPolicy.Item(id: "c", finishedAt: Self.now - 3700, valid: true),
            RetentionPolicy.Item(id: "d", finishedAt: Self.now - 3800, valid: true),
        ]
        let plan = policy.plan(items, now: Self.now)
        #expect(Set(plan.keep.keys) == ["a", "c"])
        #expect(plan.remove == ["d", "b"])
    }
}
