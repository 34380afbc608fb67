import DRAgent
import DRCore
import Foundation
import Testing

/// The failsafe request's signature: only a sender holding the cluster's secret, with a
/// request for this member, sent within half its lease TTL of the member's clock and never
/// heard before, is heard; and only a signed answer to that very request counts.
@Suite struct FailsafeAuthenticatorTests {
    static let now: Int64 = 1_796_000_000_000
    static let key = FailsafeAuthenticator(secret: "3f1c9a")

    static func body(sentAt: Int64? = now, term: Int64 = 7, to: String? = "pg2", nonce: String? = "n1", ttl: Int64 = 10_000) -> [UInt8] {
        let request = FailsafeRequest(cluster: "lab", leader: "pg1", term: term, ttlMillis: ttl, sentAtMillis: sentAt, to: to, nonce: nonce)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // the same bytes each time it is built
        return Array((try? encoder.encode(request)) ?? Data())
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var body: [UInt8]
        var signature: String?
        /// A fragment of the refusal; nil: accepted.
        var refused: String?
        var heardBefore = false
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let fresh = body()
        let tampered = body(term: 8)
        let signedFresh = key.signature(of: fresh)
        func signed(_ body: [UInt8]) -> String { key.signature(of: body) }
        return [
            Case(name: "signed and fresh", body: fresh, signature: signedFresh, refused: nil),
            Case(name: "sent 4.9 s ago, TTL 10 s", body: body(sentAt: now - 4_900), signature: signed(body(sentAt: now - 4_900)), refused: nil),
            Case(name: "not signed", body: fresh, signature: nil, refused: "not signed"),
            Case(name: "another secret", body: fresh, signature: FailsafeAuthenticator(secret: "3f1c9b").signature(of: fresh), refused: "does not match"),
            Case(name: "body changed after signing (term)", body: tampered, signature: signedFresh, refused: "does not match"),
            Case(name: "signature cut short", body: fresh, signature: String(signedFresh.dropLast()), refused: "does not match"),
            Case(
                name: "a replay half a TTL later", body: body(sentAt: now - 5_100), signature: signed(body(sentAt: now - 5_100)),
                refused: "a replay"),
            Case(
                name: "from half a TTL in the future", body: body(sentAt: now + 5_100), signature: signed(body(sentAt: now + 5_100)),
                refused: "check NTP"),
            Case(
                name: "a long TTL: still 30 s at most", body: body(sentAt: now - 31_000, ttl: 120_000),
                signature: signed(body(sentAt: now - 31_000, ttl: 120_000)), refused: "a replay"),
            Case(name: "signed without a sending time", body: body(sentAt: nil), signature: signed(body(sentAt: nil)), refused: "sent_at_ms"),
            Case(name: "for another member", body: body(to: "pg3"), signature: signed(body(to: "pg3")), refused: "for pg3, not pg2"),
            Case(name: "no recipient, no nonce (an older agent)", body: body(to: nil, nonce: nil), signature: signed(body(to: nil, nonce: nil)), refused: "nonce"),
            Case(name: "its nonce heard before", body: fresh, signature: signedFresh, refused: "heard before", heardBefore: true),
        ]
    }()

    @Test(arguments: cases)
    func refusal(_ c: Case) {
        let refusal = Self.key.refusal(body: c.body, signature: c.signature, member: "pg2", nowMillis: Self.now, seen: { _ in c.heardBefore })
        if let fragment = c.refused {
            #expect(refusal?.contains(fragment) == true, "\(refusal ?? "accepted")")
        } else {
            #expect(refusal == nil)
        }
    }

    /// The leader counts a "yes" only signed by the secret, from the member it asked, to its nonce.
    @Test func onlyASignedAnswerToThisRequestCounts() throws {
        func encoded(_ answer: FailsafeAnswer) throws -> [UInt8] { Array(try JSONEncoder().encode(answer)) }
        let yes = FailsafeAnswer(node: "pg2", accepted: true, nonce: "n1")
        let body = try encoded(yes)
        #expect(Self.key.answerRefusal(yes, body: body, signature: Self.key.signature(of: body), member: "pg2", nonce: "n1") == nil)
        #expect(Self.key.answerRefusal(yes, body: body, signature: nil, member: "pg2", nonce: "n1")?.contains("not signed") == true)
        let forged = FailsafeAuthenticator(secret: "guess").signature(of: body)
        #expect(Self.key.answerRefusal(yes, body: body, signature: forged, member: "pg2", nonce: "n1")?.contains("not signed") == true)
        #expect(Self.key.answerRefusal(yes, body: body, signature: Self.key.signature(of: body), member: "pg2", nonce: "n2")?.contains("not to this request") == true, "an old answer replayed")
        #expect(Self.key.answerRefusal(yes, body: body, signature: Self.key.signature(of: body), member: "pg3", nonce: "n1")?.contains("not to this request") == true, "another member's answer")
    }

    @Test func theSignatureIsTheDocumentedHMAC() {
        // RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?".
        let mac = FailsafeAuthenticator(secret: "Jefe").signature(of: Array("what do ya want for nothing?".utf8))
        #expect(mac == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
