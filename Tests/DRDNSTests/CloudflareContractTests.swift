import DRCore
import DRDNS
import Testing

/// drctl's Cloudflare client against a local server that checks each request as
/// Cloudflare's API v4 documentation specifies, and injects the failures it documents.
@Suite struct CloudflareContractTests {
    static func provider(_ fake: FakeCloudflare, token: String = FakeCloudflare.token) -> CloudflareProvider {
        CloudflareProvider(name: "cf", url: fake.baseURL, zone: "example.com", token: token)
    }
    static let db = DNSRecordSet(name: "db.example.com.", type: .a, ttlSeconds: 60, values: ["192.0.2.20"])
    static func deadline(_ seconds: Int = 10) -> ContinuousClock.Instant { ContinuousClock().now + .seconds(seconds) }

    @Test func patchesAnExistingRecordFoundByName() async throws {
        let fake = try FakeCloudflare(records: [("db.example.com", "A", "192.0.2.10", 60)])
        defer { fake.server.stop() }
        let cf = Self.provider(fake)
        #expect(try await cf.read(name: "db.example.com.", type: .a, deadline: Self.deadline())?.values == ["192.0.2.10"])
        try await cf.upsert([Self.db], comment: "drctl term 7", deadline: Self.deadline())
        #expect(fake.records(named: "db.example.com").map { $0["content"] as? String } == ["192.0.2.20"])
        #expect(fake.server.requests.contains { $0.method == "PATCH" && $0.path.hasSuffix("/dns_records/\(String(format: "%032x", 1))") })
        #expect(try await cf.read(name: "db.example.com.", type: .a, deadline: Self.deadline())?.matches(Self.db) == true)
        #expect(fake.faults.violations.isEmpty, "\(fake.faults.violations)")
    }

    @Test func createsAMissingRecordAndBatchesSeveralChangesInOneCall() async throws {
        let fake = try FakeCloudflare(records: [("db.example.com", "A", "192.0.2.10", 60)])
        defer { fake.server.stop() }
        let cf = Self.provider(fake)
        let app = DNSRecordSet(name: "app.example.com.", type: .cname, ttlSeconds: 1, values: ["eu.example.com."])
        try await cf.upsert([Self.db, app], comment: "drctl", deadline: Self.deadline())
        let writes = fake.server.requests.filter { $0.method != "GET" }
        #expect(writes.count == 1 && writes.first?.path.hasSuffix("/dns_records/batch") == true, "all changes in one call")
        #expect(fake.records(named: "app.example.com").first?["content"] as? String == "eu.example.com")
        #expect(fake.records(named: "db.example.com").first?["content"] as? String == "192.0.2.20")
        #expect(fake.faults.violations.isEmpty, "\(fake.faults.violations)")
    }

    @Test func retriesAfter429HonouringRetryAfterAnd500() async throws {
        let fake = try FakeCloudflare(records: [("db.example.com", "A", "192.0.2.10", 60)])
        defer { fake.server.stop() }
        fake.faults.push(
            .respond(status: 429, headers: [("Retry-After", "1")], body: #"{"success":false,"errors":[{"code":10000,"message":"rate limited"}]}"#),
            .respond(status: 500, headers: [], body: "oops"))
        try await Self.provider(fake).upsert([Self.db], comment: "drctl", deadline: Self.deadline())
        #expect(fake.records(named: "db.example.com").first?["content"] as? String == "192.0.2.20")
        #expect(fake.server.requests.count >= 5, "two failed attempts, then zone, record, patch")
    }

    @Test func a401StopsAtOnceWithCloudflaresMessageAndNoToken() async throws {
        let fake = try FakeCloudflare(records: [])
        defer { fake.server.stop() }
        let wrong = "cf-wrong-token-77"
        do {
            try await Self.provider(fake, token: wrong).upsert([Self.db], comment: "drctl", deadline: Self.deadline())
            Issue.record("a refused token must fail")
        } catch let error as DNSProviderError {
            #expect(error.kind == .rejected(status: 403))
            #expect(error.description.contains("Invalid access token") && error.description.contains("credentials"), "\(error)")
            #expect(!error.description.contains(wrong))
        }
        #expect(fake.server.requests.count == 1, "no retry after a 4xx other than 429")
    }

    @Test func malformedAnswersAndHangsAreReportedNotFatal() async throws {
        let fake = try FakeCloudflare(records: [])
        defer { fake.server.stop() }
        fake.faults.push(.respond(status: 200, headers: [], body: "{not json"))
        await #expect(throws: DNSProviderError.self) { try await Self.provider(fake).read(name: "db.example.com.", type: .a, deadline: Self.deadline()) }
        fake.faults.push(.hang, .hang, .hang, .hang, .hang, .hang)
        do {
            _ = try await Self.provider(fake).read(name: "db.example.com.", type: .a, deadline: Self.deadline(2))
            Issue.record("a hung provider must time out")
        } catch let error as DNSProviderError {
            #expect(error.kind == .unavailable, "\(error)")
        }
    }

    @Test func refusesTTLsCloudflareDoesNotAccept() async throws {
        let fake = try FakeCloudflare(records: [])
        defer { fake.server.stop() }
        let bad = DNSRecordSet(name: "db.example.com.", type: .a, ttlSeconds: 30, values: ["192.0.2.20"])
        await #expect(throws: DNSProviderError.self) { try await Self.provider(fake).upsert([bad], comment: "", deadline: Self.deadline()) }
        #expect(fake.server.requests.isEmpty, "refused before any call")
    }

    /// The token check preflight runs: `GET /user/tokens/verify`, as documented, changes nothing.
    @Test func verifiesTheTokenWithoutChangingAnything() async throws {
        let fake = try FakeCloudflare(records: [("db.example.com", "A", "192.0.2.10", 60)])
        defer { fake.server.stop() }
        #expect(try await Self.provider(fake).credentialProblem(deadline: Self.deadline()) == nil)
        fake.tokenStatus = "expired"
        let problem = try await Self.provider(fake).credentialProblem(deadline: Self.deadline())
        #expect(problem?.contains("expired (expires_on 2026-01-01T00:00:00Z)") == true, "\(problem ?? "nil")")
        await #expect(throws: DNSProviderError.self) { try await Self.provider(fake, token: "wrong").credentialProblem(deadline: Self.deadline()) }
        #expect(fake.server.requests.allSatisfy { $0.method == "GET" })
        #expect(fake.faults.violations.isEmpty, "\(fake.faults.violations)")
    }
}
