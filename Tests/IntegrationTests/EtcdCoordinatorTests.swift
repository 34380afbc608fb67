import DRCoordination
import DRCore
import DRHTTP
import DRLab
import DRSystem
import Foundation
import Testing

/// Runs `body` against a fresh single-member etcd in its own directory and ports.
func withEtcd(_ body: (EtcdServer) async throws -> Void) async throws {
    let dir = "/tmp/drctl-etcd-\(UUID().uuidString.prefix(8).lowercased())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let etcd = try EtcdServer.scratch(in: dir)
    do {
        try await etcd.start()
        try await body(etcd)
    } catch {
        try? await etcd.stop()
        throw error
    }
    try await etcd.stop()
}

func member(_ name: String, role: NodeRole = .standby, lsn: UInt64 = 100) -> MemberRecord {
    MemberRecord(
        name: name, region: "r-\(name)", role: role, timeline: 1, lsn: LSN(lsn), replayLSN: LSN(lsn),
        lagBytes: 0, healthy: true, failedChecks: 0, publishedAtMillis: 1_700_000_000_000)
}

extension RealServers {
    @Suite("etcd coordination against a real etcd")
    struct EtcdCoordinatorTests {
        /// Issue 28: one keep-alive connection carries every call (before: one new TCP
        /// connection per request, about 8 a second per agent); a restarted member's dead
        /// connection is replaced, not fatal.
        @Test func callsReuseOneConnectionAndOutliveARestartedMember() async throws {
            try await withEtcd { etcd in
                let gateway = EtcdGateway(endpoints: [etcd.endpoint])
                let coordinator = EtcdCoordinator(gateway: gateway, prefix: "/drctl/k/")
                let lease = try await coordinator.grantLease(ttl: .seconds(30))
                for _ in 0..<20 {
                    _ = try await coordinator.keepAlive(lease: lease)
                    _ = try await coordinator.leader()
                }
                #expect(gateway.connectionsOpened == 1, "41 calls, \(gateway.connectionsOpened) connections")
                let seenByTheAgent: any Coordinator = coordinator
                #expect(seenByTheAgent.connectionsOpened == 1, "what the agent's metric reads, through the protocol")
                try await etcd.stop()
                try await etcd.start()
                let answered = try await eventually(within: .seconds(20)) {
                    do {
                        _ = try await coordinator.leader()
                        return true
                    } catch {
                        return false
                    }
                }
                #expect(answered)
                let afterRestart = gateway.connectionsOpened
                for _ in 0..<10 { _ = try await coordinator.leader() }
                #expect(gateway.connectionsOpened == afterRestart, "steady again on the new connection")
            }
        }

        /// Issue 28: a standby waits on the leader key every loop; the waits share one
        /// long-lived watch (before: a watch per loop, each ended by an abort that closed its
        /// connection: one new connection per loop). A change wakes the waiter at once.
        @Test func waitsForTheLeaderKeyShareOneStreamAndWakeOnAChange() async throws {
            try await withEtcd { etcd in
                let gateway = EtcdGateway(endpoints: [etcd.endpoint])
                let coordinator = EtcdCoordinator(gateway: gateway, prefix: "/drctl/w/")
                let lease = try await coordinator.grantLease(ttl: .seconds(30))
                guard case .acquired(let record) = try await coordinator.acquireLeadership(node: "a", lease: lease) else {
                    Issue.record("the key was free")
                    return
                }
                let read = try await coordinator.snapshot().revision
                #expect(await !coordinator.waitForLeaderChange(after: read, within: .milliseconds(300)), "nothing changed")
                // The stream keeps its connection; the calls get one of their own, once.
                _ = try await coordinator.leader()
                let opened = gateway.connectionsOpened
                for _ in 0..<20 {
                    let changed = await coordinator.waitForLeaderChange(after: read, within: .milliseconds(100))
                    _ = try await coordinator.leader()
                    #expect(!changed)
                }
                #expect(gateway.connectionsOpened == opened, "20 loops' waits and reads: no new connection (\(gateway.connectionsOpened - opened))")

                // The leader lets go while a standby waits: it wakes long before its limit.
                let clock = ContinuousClock()
                let started = clock.now
                async let woke = coordinator.waitForLeaderChange(after: read, within: .seconds(20))
                try await Task.sleep(for: .milliseconds(200))
                _ = try await coordinator.releaseLeadership(node: "a", term: record.term)
                #expect(await woke)
                #expect(clock.now - started < .seconds(10), "woken by the change, not by its limit")
                // A change from before the wait began is seen too; after the newest read, none.
                #expect(await coordinator.waitForLeaderChange(after: read, within: .seconds(5)))
                let now = try await coordinator.snapshot().revision
                #expect(await !coordinator.waitForLeaderChange(after: now, within: .milliseconds(300)))
            }
        }

        @Test func anUnconsumedFailoverIntentExpires() async throws {
            try await withEtcd { etcd in
                let coordinator = EtcdCoordinator(gateway: EtcdGateway(endpoints: [etcd.endpoint]), prefix: "/drctl/i/")
                try await coordinator.setFailoverIntent(FailoverIntent(to: "b", acceptDataLoss: true), expiry: .seconds(2))
                #expect(try await coordinator.failoverIntent() == FailoverIntent(to: "b", acceptDataLoss: true))
                #expect(try await eventually(within: .seconds(10)) { try await coordinator.failoverIntent() == nil })
            }
        }

        @Test func leaderKeyIsExclusiveAndTermsGrow() async throws {
            try await withEtcd { etcd in
                let coordinator = EtcdCoordinator(gateway: EtcdGateway(endpoints: [etcd.endpoint]), prefix: "/drctl/t/")
                let leaseA = try await coordinator.grantLease(ttl: .seconds(10))
                let leaseB = try await coordinator.grantLease(ttl: .seconds(10))
                #expect(try await coordinator.keepAlive(lease: leaseA) == .seconds(10))

                guard case .acquired(let first) = try await coordinator.acquireLeadership(node: "a", lease: leaseA) else {
                    Issue.record("a must acquire a free leader key"); return
                }
                #expect(first.node == "a" && first.lease == leaseA)
                #expect(try await coordinator.acquireLeadership(node: "b", lease: leaseB) == .heldBy(first))
                #expect(try await coordinator.leader() == first)

                // Only the holder, under its own term, can release.
                #expect(try await coordinator.releaseLeadership(node: "b", term: first.term) == false)
                #expect(try await coordinator.releaseLeadership(node: "a", term: first.term + 1) == false)

                // The lease going away takes the key with it; the next holder gets a higher term.
                try await coordinator.revoke(lease: leaseA)
                try await coordinator.revoke(lease: leaseA)  // idempotent
                #expect(try await coordinator.leader() == nil)
                await #expect(throws: CoordinationError.self) { try await coordinator.keepAlive(lease: leaseA) }
                guard case .acquired(let second) = try await coordinator.acquireLeadership(node: "b", lease: leaseB) else {
                    Issue.record("b must acquire after a's lease is revoked"); return
                }
                #expect(second.term > first.term)
                #expect(try await coordinator.releaseLeadership(node: "b", term: second.term))
                #expect(try await coordinator.leader() == nil)
            }
        }

        /// Progress is written only under the writer's own term: a deposed leader's late
        /// write leaves its successor's progress (and so the RPO gate) as it was.
        @Test func aDeposedLeaderCannotOverwriteItsSuccessorsProgress() async throws {
            try await withEtcd { etcd in
                let coordinator = EtcdCoordinator(gateway: EtcdGateway(endpoints: [etcd.endpoint]), prefix: "/drctl/progress/")
                let leaseA = try await coordinator.grantLease(ttl: .seconds(10))
                guard case .acquired(let first) = try await coordinator.acquireLeadership(node: "a", lease: leaseA) else {
                    Issue.record("a must acquire a free leader key"); return
                }
                let old = PrimaryProgress(node: "a", timeline: 2, lsn: LSN(1000), standbyLagSeconds: ["b": 0.1])
                #expect(try await coordinator.publishProgress(old, term: first.term))
                try await coordinator.revoke(lease: leaseA)
                let leaseB = try await coordinator.grantLease(ttl: .seconds(10))
                guard case .acquired(let second) = try await coordinator.acquireLeadership(node: "b", lease: leaseB) else {
                    Issue.record("b must acquire after a's lease is revoked"); return
                }
                let new = PrimaryProgress(node: "b", timeline: 3, lsn: LSN(5000), standbyLagSeconds: [:])
                #expect(try await coordinator.publishProgress(new, term: second.term))
                #expect(try await coordinator.publishProgress(old, term: first.term) == false)
                #expect(try await coordinator.publishProgress(PrimaryProgress(node: "a", timeline: 3, lsn: LSN(9000), standbyLagSeconds: [:]), term: second.term) == false, "b's term, not a's key")
                #expect(try await coordinator.progress() == new)
                #expect(try await coordinator.snapshot().progress == new)
                // The same guard when the progress rides on the loop's read.
                let stale = try await coordinator.snapshot(writing: LoopWrites(progress: ProgressWrite(old, term: first.term)))
                #expect(!stale.progressWritten && stale.snapshot.progress == new && stale.snapshot.leader?.node == "b", "read either way")
                var newer = new
                newer.lsn = LSN(6000)
                let current = try await coordinator.snapshot(writing: LoopWrites(progress: ProgressWrite(newer, term: second.term)))
                #expect(current.progressWritten && current.snapshot.progress == newer, "written first, then read in the same transaction")
                #expect(try await coordinator.progress() == newer)
                // A deposed leader's member record is written with its read all the same.
                let mine = try await coordinator.grantLease(ttl: .seconds(10))
                var record = member("a")
                record.role = .fenced
                let both = try await coordinator.snapshot(writing: LoopWrites(progress: ProgressWrite(old, term: first.term), member: MemberWrite(record, lease: mine)))
                #expect(!both.progressWritten && both.memberWritten && both.snapshot.members.first { $0.name == "a" }?.role == .fenced, "the record read back in the same revision")
                #expect(try await coordinator.progress() == newer)
            }
        }

        /// The loop's read carries the member record bound to the member lease; a lease etcd
        /// no longer has fails the whole request (nothing written, the agent reads again).
        @Test func aMemberRecordRidesInTheReadOnlyUnderALiveLease() async throws {
            try await withEtcd { etcd in
                let coordinator = EtcdCoordinator(gateway: EtcdGateway(endpoints: [etcd.endpoint]), prefix: "/drctl/ride/")
                let lease = try await coordinator.grantLease(ttl: .seconds(10))
                let answer = try await coordinator.snapshot(writing: LoopWrites(member: MemberWrite(member("b"), lease: lease)))
                #expect(answer.memberWritten && answer.snapshot.members.map(\.name) == ["b"])
                try await coordinator.revoke(lease: lease)
                #expect(try await coordinator.members().isEmpty, "gone with its lease")
                do {
                    _ = try await coordinator.snapshot(writing: LoopWrites(member: MemberWrite(member("b"), lease: lease)))
                    Issue.record("a put under a revoked lease must fail")
                } catch {
                    #expect(error is CoordinationError && "\(error)".contains("lease not found"), "\(error)")
                }
                #expect(try await coordinator.members().isEmpty, "nothing written")
            }
        }

        /// One keep-alive request renews several leases (etcd's keep-alive is a stream);
        /// a lease that is gone is left out of the answer, not an error for the others.
        @Test func oneKeepAliveRenewsTwoLeasesAndLeavesOutAGoneOne() async throws {
            try await withEtcd { etcd in
                let coordinator = EtcdCoordinator(gateway: EtcdGateway(endpoints: [etcd.endpoint]), prefix: "/drctl/ka/")
                let short = try await coordinator.grantLease(ttl: .seconds(5))
                let long = try await coordinator.grantLease(ttl: .seconds(30))
                let gone = try await coordinator.grantLease(ttl: .seconds(30))
                try await coordinator.revoke(lease: gone)
                let granted = try await coordinator.keepAlive(leases: [short, gone, long], within: nil)
                #expect(granted == [short: .seconds(5), long: .seconds(30)])
                await #expect(throws: CoordinationError.self) { try await coordinator.keepAlive(lease: gone) }
            }
        }

        /// A claim sent again after the first was applied (its answer lost) is recognised as
        /// ours: same term, not a claim held by someone else.
        @Test func aClaimSentAgainIsOurs() async throws {
            try await withEtcd { etcd in
                let coordinator = EtcdCoordinator(gateway: EtcdGateway(endpoints: [etcd.endpoint]), prefix: "/drctl/again/")
                let lease = try await coordinator.grantLease(ttl: .seconds(10))
                guard case .acquired(let first) = try await coordinator.acquireLeadership(node: "a", lease: lease) else {
                    Issue.record("a must acquire a free leader key"); return
                }
                #expect(try await coordinator.acquireLeadership(node: "a", lease: lease) == .acquired(first))
                let other = try await coordinator.grantLease(ttl: .seconds(10))
                #expect(try await coordinator.acquireLeadership(node: "a", lease: other) == .heldBy(first), "another lease is another claim")
            }
        }

        @Test func memberRecordsLiveAsLongAsTheirLease() async throws {
            try await withEtcd { etcd in
                let coordinator = EtcdCoordinator(gateway: EtcdGateway(endpoints: [etcd.endpoint]), prefix: "/drctl/m/")
                let other = EtcdCoordinator(gateway: EtcdGateway(endpoints: [etcd.endpoint]), prefix: "/drctl/other/")
                let short = try await coordinator.grantLease(ttl: .seconds(3))
                try await coordinator.publish(member("b"), lease: short)
                let long = try await coordinator.grantLease(ttl: .seconds(60))
                try await coordinator.publish(member("a", role: .primary, lsn: 500), lease: long)
                try await other.publish(member("x"), lease: long)
                let both = try await coordinator.members()
                #expect(Set(both.map(\.name)).isSubset(of: ["a", "b"]), "a prefix sees only its cluster")
                #expect(both.first == member("a", role: .primary, lsn: 500))
                let expired = try await eventually(within: .seconds(15)) { try await coordinator.members().map(\.name) == ["a"] }
                #expect(expired, "b's record must vanish with its lease")
            }
        }

        @Test func movesToTheNextEndpointWhenOneIsDown() async throws {
            try await withEtcd { etcd in
                let dead = "http://127.0.0.1:\(try PortAllocator.freePort())"
                let coordinator = EtcdCoordinator(gateway: EtcdGateway(endpoints: [dead, etcd.endpoint]), prefix: "/drctl/f/")
                let lease = try await coordinator.grantLease(ttl: .seconds(5))
                #expect(lease > 0)
            }
            let nowhere = EtcdCoordinator(gateway: EtcdGateway(endpoints: ["http://127.0.0.1:9", "http://127.0.0.1:1"]), prefix: "/x/")
            do {
                _ = try await nowhere.leader()
                Issue.record("expected unavailable")
            } catch CoordinationError.unavailable(let failures) {
                #expect(failures.count == 2)
                #expect(failures[0].hasPrefix("http://127.0.0.1:9"))
            }
        }

        @Test func authenticatesWithUserAndPassword() async throws {
            try await withEtcd { etcd in
                let env = ["ETCDCTL_API": "3"]
                try await CommandRunner.run(["etcdctl", "--endpoints", etcd.endpoint, "user", "add", "root:rootpw"], environment: env)
                try await CommandRunner.run(["etcdctl", "--endpoints", etcd.endpoint, "auth", "enable"], environment: env)
                let good = EtcdCoordinator(gateway: EtcdGateway(endpoints: [etcd.endpoint], credentials: .init(username: "root", password: "rootpw")), prefix: "/drctl/a/")
                let lease = try await good.grantLease(ttl: .seconds(5))
                guard case .acquired = try await good.acquireLeadership(node: "a", lease: lease) else {
                    Issue.record("an authenticated client must take the free leader key"); return
                }
                let anonymous = EtcdCoordinator(gateway: EtcdGateway(endpoints: [etcd.endpoint]), prefix: "/drctl/a/")
                await #expect(throws: CoordinationError.self) { try await anonymous.leader() }
                let wrong = EtcdCoordinator(gateway: EtcdGateway(endpoints: [etcd.endpoint], credentials: .init(username: "root", password: "nope")), prefix: "/drctl/a/")
                do {
                    _ = try await wrong.leader()
                    Issue.record("expected an authentication error")
                } catch CoordinationError.authentication(let message) {
                    #expect(!message.contains("nope"), "the password is never echoed")
                }
            }
        }
    }
}

@Suite("HTTP over libcurl", .timeLimit(.minutes(1)))
struct HTTPClientTests {
    @Test func refusedAndSilentServersFailWithTheirKind() async throws {
        let client = HTTPClient()
        let port = try PortAllocator.freePort()
        do {
            _ = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
            Issue.record("expected a connection error")
        } catch let error as HTTPError {
            #expect(error.kind == .connection)
        }
        let silent = try SilentServer()
        do {
            _ = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(silent.port)/", connectTimeout: .milliseconds(300), timeout: .milliseconds(500)))
            Issue.record("expected a time-out")
        } catch let error as HTTPError {
            #expect(error.kind == .timeout)
            #expect(error.description.contains("127.0.0.1:\(silent.port)"))
        }
    }

    @Test func postsJSONAndReadsStatusHeadersAndBody() async throws {
        try await withEtcd { etcd in
            let client = HTTPClient()
            let ok = try await client.send(
                HTTPRequest(
                    method: "POST", url: etcd.endpoint + "/v3/kv/range",
                    headers: [("Content-Type", "application/json")], body: Array(#"{"key":"YQ=="}"#.utf8)))
            #expect(ok.status == 200)
            #expect(ok.headers["content-type"]?.contains("application/json") == true)
            #expect(ok.text.contains("\"header\""))
            let missing = try await client.send(HTTPRequest(url: etcd.endpoint + "/no/such/path"))
            #expect(missing.status == 404)
            let health = try await client.send(HTTPRequest(url: etcd.endpoint + "/health"))
            #expect(health.status == 200 && health.text.contains("true"))
        }
    }
}
