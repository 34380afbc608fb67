import DRCore
import DRHTTP
import Foundation
import Testing

@testable import DRDNS

/// Request building and answer parsing that need no server.
@Suite struct ProviderMessageTests {
    @Test func powerDNSPatchReplacesEachSetWithItsRecords() throws {
        let body = PowerDNSProvider.patchBody([DNSRecordSet(name: "db.Lab.test", type: .a, ttlSeconds: 5, values: ["127.0.2.1"])], comment: "term 9")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let rrset = try #require((object["rrsets"] as? [[String: Any]])?.first)
        #expect(rrset["name"] as? String == "db.lab.test.", "fully qualified, lower case")
        #expect(rrset["type"] as? String == "A" && rrset["ttl"] as? Int == 5 && rrset["changetype"] as? String == "REPLACE")
        let records = try #require(rrset["records"] as? [[String: Any]])
        #expect(records.count == 1 && records[0]["content"] as? String == "127.0.2.1" && records[0]["disabled"] as? Bool == false)
    }

    @Test func nameServersParse() {
        #expect(DNSVerifier.Server.parse("127.0.0.1:5300") == .init(host: "127.0.0.1", port: 5300))
        #expect(DNSVerifier.Server.parse("ns1.example.com") == .init(host: "ns1.example.com", port: 53))
        #expect(DNSVerifier.Server.parse("[::1]:5300") == .init(host: "::1", port: 5300))
        #expect(DNSVerifier.Server.parse("::1") == .init(host: "::1", port: 53))
    }

    @Test func route53AnswersAreReadFromTheirXML() {
        let xml: Substring = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate &amp; more</Message></Error></ErrorResponse>"
        #expect(XMLText.text("Code", in: xml) == "Throttling")
        #expect(XMLText.text("Message", in: xml) == "Rate & more")
        #expect(XMLText.escape("<a&b>") == "&lt;a&amp;b&gt;")
        #expect(XMLText.elements("Value", in: "<Value>1</Value><Value>2</Value>").map(String.init) == ["1", "2"])
    }

    @Test func cloudflareErrorsKeepTheirCodesAndMessages() {
        let response = HTTPResponseFixture.make(403, #"{"success":false,"errors":[{"code":9109,"message":"Invalid access token"}]}"#)
        #expect(CloudflareProvider.errorMessage(response) == "9109: Invalid access token")
        #expect(CloudflareProvider.validTTL(1) && CloudflareProvider.validTTL(60) && !CloudflareProvider.validTTL(30) && !CloudflareProvider.validTTL(86401))
    }
}

enum HTTPResponseFixture {
    static func make(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [:], body: Array(body.utf8))
    }
}
