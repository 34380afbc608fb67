import DRCore
import Testing

@testable import DRAgent

/// The watchdog's lease file: a CLOCK_MONOTONIC instant means something only within the
/// boot that wrote it, so a lease from another boot (or one this version cannot read) must
/// fail safe — fence at once — never keep a database writable.
@Suite struct PublishedLeaseTests {
    static let lease = LeaseBookkeeping(term: 42, ttl: .seconds(2), lastConfirmedRenewalSentAt: AgentInstant(.seconds(1000)))
    static let policy = FailoverPolicy(rpo: .seconds(5), fencingMargin: .milliseconds(500))

    static func fences(_ lease: LeaseBookkeeping, at now: AgentInstant) -> Bool {
        let view = ClusterView(
            me: "pg1", local: LocalDatabase(state: .primary, lsn: nil), etcdReachable: false, leader: nil, members: [],
            primaryProgress: nil, lease: lease)
        return decide(view, policy: policy, now: now).actions.contains { if case .fence = $0 { true } else { false } }
    }

    @Test func roundTripsWithItsBootAndOwner() throws {
        let published = PublishedLease(lease: Self.lease, bootID: "boot-a", agentPID: 1234)
        let read = try #require(PublishedLease(text: published.text))
        #expect(read == published)
        #expect(read.effective(bootID: "boot-a") == Self.lease)
        #expect(!Self.fences(read.effective(bootID: "boot-a"), at: AgentInstant(.seconds(1001))), "same boot, before the deadline")
        #expect(Self.fences(read.effective(bootID: "boot-a"), at: AgentInstant(.seconds(1002))), "same boot, at the deadline")
    }

    @Test func aLeaseFromAnotherBootIsExpiredAtOnce() throws {
        let read = try #require(PublishedLease(text: PublishedLease(lease: Self.lease, bootID: "boot-a", agentPID: 1).text))
        // After a reboot CLOCK_MONOTONIC starts again near zero: the old instant looks far in the future.
        #expect(Self.fences(read.effective(bootID: "boot-b"), at: AgentInstant(.seconds(3))))
        #expect(read.effective(bootID: "boot-b").term == 42)
    }

    @Test func anOlderOrGarbledFileFailsSafe() throws {
        let legacy = try #require(PublishedLease(text: "42 1000000000000 2000000000\n"), "the format without a boot id")
        #expect(Self.fences(legacy.effective(bootID: "boot-a"), at: AgentInstant(.seconds(3))))
        let garbled = try #require(PublishedLease(text: "forty-two"))
        #expect(Self.fences(garbled.effective(bootID: "boot-a"), at: AgentInstant(.seconds(3))))
        #expect(PublishedLease(text: "") == nil && PublishedLease(text: "\n") == nil, "empty: no lease to guard")
    }
}
