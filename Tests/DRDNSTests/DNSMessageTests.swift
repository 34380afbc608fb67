import DRCore
import Testing

@testable import DRDNS

/// The wire format verification reads (RFC 1035 section 4): replies built byte by byte as a
/// server sends them, with name compression, other records in the answer, and hostile input.
@Suite struct DNSMessageTests {
    /// A reply to `id` with the question for `name` and `records` (already encoded).
    static func reply(id: UInt16 = 0x1234, flags: UInt16 = 0x8400, name: String = "db.lab.drctl.test.", type: UInt16 = 1, records: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), UInt8(flags >> 8), UInt8(flags & 0xFF), 0, 1, 0, UInt8(records.count), 0, 0, 0, 0]
        bytes += encode(name) + [0, UInt8(type), 0, 1]
        for record in records { bytes += record }
        return bytes
    }

    static func encode(_ name: String) -> [UInt8] {
        name.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    /// One record; `owner` defaults to a pointer at the question's name (offset 12).
    static func record(owner: [UInt8] = [0xC0, 12], type: UInt16 = 1, ttl: UInt32 = 5, data: [UInt8]) -> [UInt8] {
        owner + [0, UInt8(type), 0, 1, UInt8(ttl >> 24), UInt8(ttl >> 16 & 0xFF), UInt8(ttl >> 8 & 0xFF), UInt8(ttl & 0xFF)]
            + [UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
    }

    @Test func aQueryAsksOneQuestionWithoutRecursion() throws {
        let query = try DNSMessage.query(id: 0xBEEF, name: "DB.lab.drctl.test", type: .aaaa)
        #expect(Array(query[0..<12]) == [0xBE, 0xEF, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], "RD clear: the server's own data, never a cache")
        #expect(Array(query[12...]) == Self.encode("db.lab.drctl.test.") + [0, 28, 0, 1])
        #expect(throws: DNSMessage.Failure.self) { try DNSMessage.query(id: 1, name: String(repeating: "x", count: 64) + ".test", type: .a) }
    }

    @Test func addressesAreReadThroughCompressionWithoutCaseOrOrder() throws {
        let upper = Self.encode("DB.lab.drctl.test.")
        let reply = Self.reply(records: [
            Self.record(data: [127, 0, 2, 1]),
            Self.record(owner: upper, data: [127, 0, 1, 1]),
            Self.record(owner: Self.encode("other.lab.drctl.test."), data: [10, 0, 0, 1]),
            Self.record(type: 28, data: [UInt8](repeating: 0, count: 16)),
        ])
        let set = try DNSMessage.answer(reply, id: 0x1234, name: "db.lab.drctl.test", type: .a)
        #expect(set == DNSRecordSet(name: "db.lab.drctl.test.", type: .a, ttlSeconds: 5, values: ["127.0.1.1", "127.0.2.1"]))
        #expect(set?.matches(DNSRecordSet(name: "db.lab.drctl.test.", type: .a, ttlSeconds: 30, values: ["127.0.1.1", "127.0.2.1"])) == false, "TTL counts")
    }

    @Test func aaaaAndCNAMEValuesAreWrittenAsProvidersWriteThem() throws {
        let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        let aaaa = try DNSMessage.answer(Self.reply(type: 28, records: [Self.record(type: 28, data: v6)]), id: 0x1234, name: "db.lab.drctl.test.", type: .aaaa)
        #expect(aaaa?.values == ["2001:db8::1"])
        #expect(IPv6Text.format([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) == "::1")
        #expect(IPv6Text.format([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]) == "2001:db8:1:0:1::1", "a single zero group is not shortened")
        // The target compresses its suffix against the question's name.
        let target: [UInt8] = [3] + Array("pg2".utf8) + [0xC0, 15]
        let cname = try DNSMessage.answer(Self.reply(type: 5, records: [Self.record(type: 5, data: target)]), id: 0x1234, name: "db.lab.drctl.test.", type: .cname)
        #expect(cname?.values == ["pg2.lab.drctl.test."])
    }

    @Test func noRecordIsNilAndServerErrorsAreErrors() throws {
        #expect(try DNSMessage.answer(Self.reply(flags: 0x8403, records: []), id: 0x1234, name: "db.lab.drctl.test", type: .a) == nil, "NXDOMAIN")
        #expect(try DNSMessage.answer(Self.reply(records: []), id: 0x1234, name: "db.lab.drctl.test", type: .a) == nil, "no such record")
        #expect(throws: DNSMessage.Failure.rcode(5)) { try DNSMessage.answer(Self.reply(flags: 0x8405, records: []), id: 0x1234, name: "db.lab.drctl.test", type: .a) }
        #expect(throws: DNSMessage.Failure.mismatchedID) { try DNSMessage.answer(Self.reply(records: []), id: 0x9999, name: "db.lab.drctl.test", type: .a) }
        #expect(DNSMessage.isTruncated(Self.reply(flags: 0x8600, records: [])))
    }

    @Test func hostileRepliesAreRejectedNotFollowed() {
        let loop = Self.reply(records: [Self.record(owner: [0xC0, 50], data: [1, 2, 3, 4])])
        #expect(throws: DNSMessage.Failure.self) { try DNSMessage.answer(loop, id: 0x1234, name: "db.lab.drctl.test", type: .a) }
        var short = Self.reply(records: [Self.record(data: [1, 2, 3, 4])])
        short.removeLast(2)
        #expect(throws: DNSMessage.Failure.self) { try DNSMessage.answer(short, id: 0x1234, name: "db.lab.drctl.test", type: .a) }
        #expect(throws: DNSMessage.Failure.self) { try DNSMessage.answer([0x12], id: 0x1234, name: "db.lab.drctl.test", type: .a) }
    }
}
