import DRAgent
import DRCore
import Foundation
import Testing

/// The failsafe request's signature: only a sender holding the cluster's secret, with a
/// request sent within `maxAge` of the member's clock, is heard.
@Suite struct FailsafeAuthenticatorTests {
    static let now: Int64 = 1_796_000_000_000
    static let key = FailsafeAuthenticator(secret: "3f1c9a")

    static func body(sentAt: Int64? = now, term: Int64 = 7) -> [UInt8] {
        let request = FailsafeRequest(cluster: "lab", leader: "pg1", term: term, ttlMillis: 2000, sentAtMillis: sentAt)
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
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let fresh = body()
        let tampered = body(term: 8)
        let signedFresh = key.signature(of: fresh)
        return [
            Case(name: "signed and fresh", body: fresh, signature: signedFresh, refused: nil),
            Case(name: "sent 29 s ago", body: body(sentAt: now - 29_000), signature: key.signature(of: body(sentAt: now - 29_000)), refused: nil),
            Case(name: "not signed", body: fresh, signature: nil, refused: "not signed"),
            Case(name: "another secret", body: fresh, signature: FailsafeAuthenticator(secret: "3f1c9b").signature(of: fresh), refused: "does not match"),
            Case(name: "body changed after signing (term)", body: tampered, signature: signedFresh, refused: "does not match"),
            Case(name: "signature cut short", body: fresh, signature: String(signedFresh.dropLast()), refused: "does not match"),
            Case(name: "a replay 31 s later", body: body(sentAt: now - 31_000), signature: key.signature(of: body(sentAt: now - 31_000)), refused: "a replay"),
            Case(name: "from 31 s in the future", body: body(sentAt: now + 31_000), signature: key.signature(of: body(sentAt: now + 31_000)), refused: "check NTP"),
            Case(name: "signed without a sending time", body: body(sentAt: nil), signature: key.signature(of: body(sentAt: nil)), refused: "sent_at_ms"),
        ]
    }()

    @Test(arguments: cases)
    func refusal(_ c: Case) {
        let refusal = Self.key.refusal(body: c.body, signature: c.signature, nowMillis: Self.now)
        if let fragment = c.refused {
            #expect(refusal?.contains(fragment) == true, "\(refusal ?? "accepted")")
        } else {
            #expect(refusal == nil)
        }
    }

    @Test func theSignatureIsTheDocumentedHMAC() {
        // RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?".
        let mac = FailsafeAuthenticator(secret: "Jefe").signature(of: Array("what do ya want for nothing?".utf8))
        #expect(mac == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
