import DRCore
import DRDNS
import Foundation
import Testing

/// drctl's Route 53 client against a local server that verifies each SigV4 signature and
/// XML body as Route 53's documentation specifies, and injects its documented failures.
@Suite struct Route53ContractTests {
    static func provider(_ fake: FakeRoute53, secret: String = FakeRoute53.secret) -> Route53Provider {
        Route53Provider(
            name: "r53", url: fake.server.baseURL, hostedZoneID: "/hostedzone/\(FakeRoute53.zone)", accessKeyID: FakeRoute53.accessKey,
            secretAccessKey: secret, pollInterval: .milliseconds(50))
    }
    static let db = DNSRecordSet(name: "db.example.com.", type: .a, ttlSeconds: 30, values: ["192.0.2.20"])
    static func deadline(_ seconds: Int = 10) -> ContinuousClock.Instant { ContinuousClock().now + .seconds(seconds) }

    @Test func upsertsSignedAndWaitsForInSync() async throws {
        let fake = try FakeRoute53(records: [("db.example.com.", "A", 30, ["192.0.2.10"])])
        defer { fake.server.stop() }
        let r53 = Self.provider(fake)
        #expect(try await r53.read(name: "db.example.com", type: .a, deadline: Self.deadline())?.values == ["192.0.2.10"])
        try await r53.upsert([Self.db], comment: "drctl failover term 7", deadline: Self.deadline())
        #expect(fake.values("db.example.com.", "A") == ["192.0.2.20"])
        let polls = fake.server.requests.filter { $0.path == "/2013-04-01/change/C2682N5HXP0BZ4" }
        #expect(polls.count == 2, "polled GetChange until INSYNC")
        #expect(try await r53.read(name: "db.example.com.", type: .a, deadline: Self.deadline())?.matches(Self.db) == true)
        #expect(fake.faults.violations.isEmpty, "\(fake.faults.violations)")
    }

    @Test func throttlingAnd5xxAreRetriedAWrongSignatureIsNot() async throws {
        let fake = try FakeRoute53(records: [])
        defer { fake.server.stop() }
        fake.faults.push(fake.error(400, "Throttling", "Rate exceeded"), .respond(status: 503, headers: [("Retry-After", "1")], body: ""))
        try await Self.provider(fake).upsert([Self.db], comment: "drctl", deadline: Self.deadline())
        #expect(fake.values("db.example.com.", "A") == ["192.0.2.20"])

        let before = fake.server.requests.count
        do {
            try await Self.provider(fake, secret: "some-other-secret").upsert([Self.db], comment: "drctl", deadline: Self.deadline())
            Issue.record("a bad signature must be refused")
        } catch let error as DNSProviderError {
            #expect(error.kind == .rejected(status: 403))
            #expect(error.description.contains("SignatureDoesNotMatch"), "\(error)")
            #expect(!error.description.contains("some-other-secret") && !error.description.contains(FakeRoute53.secret))
        }
        #expect(fake.server.requests.count == before + 1, "no retry after 403")
    }

    @Test func malformedXMLIsAnErrorNotACrash() async throws {
        let fake = try FakeRoute53(records: [])
        defer { fake.server.stop() }
        fake.faults.push(.respond(status: 200, headers: [], body: "<ChangeResourceRecordSetsResponse><Oops"))
        await #expect(throws: DNSProviderError.self) { try await Self.provider(fake).upsert([Self.db], comment: "", deadline: Self.deadline()) }
        fake.faults.push(.respond(status: 200, headers: [], body: "garbage"))
        await #expect(throws: DNSProviderError.self) { try await Self.provider(fake).read(name: "db.example.com.", type: .a, deadline: Self.deadline()) }
    }

    @Test func changeBatchIsTheDocumentedXML() {
        let xml = Route53Provider.changeBatchForTesting([Self.db], comment: "a<b")
        #expect(
            xml == """
                <?xml version="1.0" encoding="UTF-8"?>
                <ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Comment>a&lt;b</Comment><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>db.example.com.</Name><Type>A</Type><TTL>30</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.20</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>
                """)
    }

    @Test func theSignedHostIsTheHostHeaderLibcurlSends() {
        // libcurl leaves a scheme's default port out of Host; the signature must match it.
        #expect(Route53Provider.signedEndpoint("https://route53.amazonaws.com:443") == ("route53.amazonaws.com", ""))
        #expect(Route53Provider.signedEndpoint("https://route53.amazonaws.com") == ("route53.amazonaws.com", ""))
        #expect(Route53Provider.signedEndpoint("http://127.0.0.1:80/r53/") == ("127.0.0.1", "/r53"))
        #expect(Route53Provider.signedEndpoint("https://proxy.internal:8443/aws/route53") == ("proxy.internal:8443", "/aws/route53"))
        #expect(Route53Provider.signedEndpoint("http://127.0.0.1:443") == ("127.0.0.1:443", ""), "443 is not http's default")
    }

    @Test func aBasePathInTheURLIsSignedAsItIsSent() async throws {
        let fake = try FakeRoute53(records: [], basePath: "/aws/route53")
        defer { fake.server.stop() }
        let r53 = Route53Provider(
            name: "r53", url: fake.server.baseURL + "/aws/route53/", hostedZoneID: FakeRoute53.zone, accessKeyID: FakeRoute53.accessKey,
            secretAccessKey: FakeRoute53.secret, pollInterval: .milliseconds(50))
        try await r53.upsert([Self.db], comment: "drctl", deadline: Self.deadline())
        #expect(fake.values("db.example.com.", "A") == ["192.0.2.20"])
        #expect(try await r53.read(name: "db.example.com.", type: .a, deadline: Self.deadline())?.matches(Self.db) == true)
        #expect(fake.faults.violations.isEmpty, "\(fake.faults.violations)")
    }

    /// A deposed leader's late retry must not land after the new leader's write: the caller's
    /// check runs before every attempt, not once before the first.
    @Test func theWriteCheckRunsBeforeEveryAttempt() async throws {
        let fake = try FakeRoute53(records: [])
        defer { fake.server.stop() }
        fake.faults.push(fake.error(400, "Throttling", "Rate exceeded"), fake.error(400, "Throttling", "Rate exceeded"))
        let checks = Counter()
        try await Self.provider(fake).upsert([Self.db], comment: "drctl", deadline: Self.deadline()) {
            checks.increment()
            return nil
        }
        #expect(checks.value == 3, "two throttled attempts and the one that went through")

        fake.faults.push(fake.error(400, "Throttling", "Rate exceeded"))
        let posts = fake.server.requests.filter { $0.method == "POST" }.count
        let deposed = Counter()
        do {
            try await Self.provider(fake).upsert([Self.db], comment: "drctl", deadline: Self.deadline()) {
                deposed.increment()
                return deposed.value > 1 ? "term 7 is stale (etcd names pg2, term 9)" : nil
            }
            Issue.record("the retry after the term went stale must be refused")
        } catch let error as DNSProviderError {
            #expect(error.kind == .refused)
            #expect(error.message == "term 7 is stale (etcd names pg2, term 9)")
        }
        #expect(fake.server.requests.filter { $0.method == "POST" }.count == posts + 1, "only the attempt made under the valid term was sent")
    }

    @Test func aChangeStillPendingAtTheDeadlineIsReportedAsPending() async throws {
        let fake = try FakeRoute53(records: [], neverInSync: true)
        defer { fake.server.stop() }
        do {
            try await Self.provider(fake).upsert([Self.db], comment: "drctl", deadline: ContinuousClock().now + .milliseconds(600))
            Issue.record("a change never INSYNC must not pass")
        } catch let error as DNSProviderError {
            #expect(error.kind == .unavailable)
            #expect(error.message.contains("still PENDING"), "\(error)")
        }
    }
}

/// A count shared with a `@Sendable` closure.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
