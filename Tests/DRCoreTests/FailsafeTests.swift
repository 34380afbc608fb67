import DRCore
import Foundation
import Testing

/// Failsafe (`failover.failsafe`) in `decide` and in a member's vote: a leader without etcd
/// stays writable only on every listed member's confirmation, a member that confirmed takes
/// no key meanwhile, and one that was never asked waits for an operator.
@Suite struct FailsafeTests {
    static var policy: FailoverPolicy {
        var policy = DecideTests.policy
        policy.failsafe = true
        return policy
    }

    static let record = FailsafeRecord(leader: "a", term: 7, members: ["a", "b", "c"])

    static func leaderWithoutEtcd(record: FailsafeRecord? = record, renewedAt: Double = 9) -> ClusterView {
        var view = DecideTests.primaryView(renewedAt: renewedAt, etcd: false)
        view.failsafe = record
        return view
    }

    @Test func theLeaderWithoutEtcdAsksEveryListedMember() {
        let decision = decide(Self.leaderWithoutEtcd(), policy: Self.policy, now: .seconds(10))
        #expect(decision.rule == "failsafe-leader-asks-members")
        #expect(decision.actions == [.askFailsafeMembers(["b", "c"], term: 7)])
    }

    @Test(arguments: [
        ("failsafe off", false, record as FailsafeRecord?, 9.0, "etcd-unreachable"),
        ("no record yet", true, nil, 9.0, "etcd-unreachable"),
        ("another leader's record", true, FailsafeRecord(leader: "b", term: 7, members: ["a", "b"]), 9.0, "etcd-unreachable"),
        ("an older term's record", true, FailsafeRecord(leader: "a", term: 6, members: ["a", "b"]), 9.0, "etcd-unreachable"),
        ("deadline passed: the members' confirmations came too late", true, record, 5.0, "fence-on-lease-deadline"),
    ])
    func theLeaderDoesNotAskWhenItMayNotRunWithoutEtcd(_ name: String, _ enabled: Bool, _ record: FailsafeRecord?, _ renewedAt: Double, _ rule: String) {
        var policy = Self.policy
        policy.failsafe = enabled
        let decision = decide(Self.leaderWithoutEtcd(record: record, renewedAt: renewedAt), policy: policy, now: .seconds(10))
        #expect(decision.rule == rule, "\(name)")
    }

    @Test func aStandbyNeverPromotesWithoutEtcdWhateverFailsafeSays() {
        var view = DecideTests.standbyView(etcd: false)
        view.failsafe = Self.record
        #expect(decide(view, policy: Self.policy, now: .seconds(30)).actions == [])
    }

    @Test func aMemberThatConfirmedTakesNoKeyUntilItsPromiseEnds() {
        var view = DecideTests.standbyView(missingSince: 10)
        view.failsafe = Self.record
        view.failsafePromise = FailsafePromise(leader: "a", term: 7, until: .seconds(20))
        let bound = decide(view, policy: Self.policy, now: .seconds(19))
        #expect(bound.rule == "failsafe-promise-holds")
        #expect(bound.actions == [])
        #expect(decide(view, policy: Self.policy, now: .seconds(20)).rule == "take-over", "the promise has ended")
        view.failoverIntent = FailoverIntent(to: "b", acceptDataLoss: true)
        #expect(decide(view, policy: Self.policy, now: .seconds(19)).rule == "failsafe-promise-holds", "not even for an operator")
    }

    @Test func aCandidateTheLostLeaderNeverListedWaitsForAnOperator() {
        var view = DecideTests.standbyView(missingSince: 10)
        view.failsafe = FailsafeRecord(leader: "a", term: 7, members: ["a", "c"])
        let held = decide(view, policy: Self.policy, now: .seconds(30))
        #expect(held.rule == "failsafe-outsider-waits")
        #expect(held.actions == [.holdForOperator(reason: .notFailsafeMember(node: "b", leader: "a"))])
        view.failoverIntent = FailoverIntent(to: "b", acceptDataLoss: false)
        #expect(decide(view, policy: Self.policy, now: .seconds(30)).rule == "take-over", "the operator's failover --to b")
        view.failoverIntent = nil
        view.failsafe = FailsafeRecord(leader: "z", term: 3, members: ["z"])
        #expect(decide(view, policy: Self.policy, now: .seconds(30)).rule == "take-over", "an older leader's list says nothing")
    }

    @Test func theLeaderListsTheLiveAndRecentMembersUnderItsTerm() {
        var view = DecideTests.primaryView()
        view.recentMembers = ["c"]
        let decision = decide(view, policy: Self.policy, now: .seconds(10))
        #expect(decision.rule == "leader-renews")
        #expect(decision.actions.contains(.publishFailsafe(FailsafeRecord(leader: "a", term: 7, members: ["a", "b", "c"]))))
        view.failsafe = FailsafeRecord(leader: "a", term: 7, members: ["a", "b", "c"])
        #expect(!decide(view, policy: Self.policy, now: .seconds(10)).actions.contains { if case .publishFailsafe = $0 { true } else { false } })
        #expect(!decide(view, policy: DecideTests.policy, now: .seconds(10)).actions.contains { if case .publishFailsafe = $0 { true } else { false } })
    }

    @Test func aDeposedLeaderCannotListMembers() {
        #expect(!SafetyChecks.permits(.publishFailsafe(Self.record), leader: LeaderRecord(node: "b", term: 8, lease: 1), me: "a"))
        #expect(SafetyChecks.permits(.publishFailsafe(Self.record), leader: LeaderRecord(node: "a", term: 7, lease: 1), me: "a"))
    }

    static let request = FailsafeRequest(cluster: "sim", leader: "a", term: 7, ttlMillis: 5000)
    static func voter(
        enabled: Bool = true, local: LocalDatabase.State = .standby, leading: Bool = false, seen: Int64? = 7, etcdLeader: LeaderRecord? = nil,
        intent: Bool = false
    ) -> FailsafeVoter {
        FailsafeVoter(
            me: "b", cluster: "sim", enabled: enabled, local: local, leadingOrTakingOver: leading, lastTermSeen: seen, etcdLeader: etcdLeader,
            operatorIntent: intent)
    }

    @Test(arguments: [
        ("a standby that saw this term", voter(), true),
        ("a member that has seen no leader yet", voter(seen: nil), true),
        ("etcd (readable here) still names this leader and term", voter(etcdLeader: LeaderRecord(node: "a", term: 7, lease: 1)), true),
        ("a fenced or stopped node", voter(local: .fenced), true),
        ("failsafe off here", voter(enabled: false), false),
        ("this node accepts writes itself", voter(local: .primary), false),
        ("this node holds or takes the key", voter(leading: true), false),
        ("a newer term was seen", voter(seen: 8), false),
        ("etcd names another leader", voter(etcdLeader: LeaderRecord(node: "c", term: 9, lease: 1)), false),
        ("etcd names this leader under another term", voter(etcdLeader: LeaderRecord(node: "a", term: 9, lease: 1)), false),
        ("an operator asked for a failover", voter(intent: true), false),
    ])
    func aMemberConfirmsOnlyWhatItCannotContradict(_ name: String, _ voter: FailsafeVoter, _ accepted: Bool) {
        let answer = FailsafeVote.answer(Self.request, voter: voter)
        #expect(answer.accepted == accepted, "\(name): \(answer.reason ?? "accepted")")
        #expect(answer.node == "b")
        #expect(accepted || answer.reason != nil, "a refusal says why")
    }

    @Test func requestsForAnotherClusterOrFromItselfOrWithoutATTLAreRefused() {
        var request = Self.request
        request.cluster = "other"
        #expect(!FailsafeVote.answer(request, voter: Self.voter()).accepted)
        request = Self.request
        request.leader = "b"
        #expect(!FailsafeVote.answer(request, voter: Self.voter()).accepted)
        request = Self.request
        request.ttlMillis = 0
        #expect(!FailsafeVote.answer(request, voter: Self.voter()).accepted)
    }

    @Test func theRecordRoundTripsThroughItsStateFileLineAndEtcd() throws {
        #expect(FailsafeRecord(line: Self.record.line) == Self.record)
        #expect(FailsafeRecord(line: "garbage") == nil)
        let snapshot = CoordinationSnapshot.decode(
            prefix: "/p/", revision: 3,
            entries: [.init(key: "/p/failsafe", value: try JSONEncoder().encode(Self.record)), .init(key: "/p/failsafe/x", value: Data("?".utf8))])
        #expect(snapshot.failsafe == Self.record)
        let unreadable = CoordinationSnapshot.decode(prefix: "/p/", revision: 3, entries: [.init(key: "/p/failsafe", value: Data("{\"v\":2}".utf8))])
        #expect(unreadable.failsafe == nil)
        #expect(unreadable.skipped.count == 1, "another version's record is skipped and reported, never fatal")
    }

    @Test func theConfigurationTurnsItOn() throws {
        let config = try ConfigLoader.load(yaml: ConfigFixtures.valid.replacing("failover:\n", with: "failover:\n  failsafe: true\n"), file: "t.yaml")
        #expect(config.failover.failsafe)
        #expect(FailoverPolicy(config).failsafe)
        #expect(try !ConfigLoader.load(yaml: ConfigFixtures.valid, file: "t.yaml").failover.failsafe, "off by default")
    }

    @Test func theSecretIsReadFromTheEnvironmentOrAFileNeverInline() throws {
        func load(_ lines: String) throws -> ClusterConfig {
            try ConfigLoader.load(yaml: ConfigFixtures.valid.replacing("failover:\n", with: "failover:\n" + lines), file: "t.yaml")
        }
        #expect(try load("  failsafe: true\n  failsafe_secret_file: /etc/drctl/fs\n").failover.failsafeSecret == .file("/etc/drctl/fs"))
        #expect(try load("  failsafe: true\n  failsafe_secret_env: FS\n").failover.failsafeSecret == .environment("FS"))
        #expect(try load("  failsafe: true\n").failover.failsafeSecret == nil, "unsigned unless asked")
        let inline = try #require(throws: ConfigError.self) { try load("  failsafe: true\n  failsafe_secret: hunter2\n") }
        #expect("\(inline)".contains("failsafe_secret_env") && !"\(inline)".contains("hunter2"), "\(inline)")
        let unused = try #require(throws: ConfigError.self) { try load("  failsafe_secret_env: FS\n") }
        #expect("\(unused)".contains("applies only with failsafe: true"), "\(unused)")
    }
}
