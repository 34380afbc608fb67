import DRCore

/// The DNS wire format (RFC 1035 section 4), as much of it as verification needs: one
/// question out, the answer section of the reply in. Pure values: the client sends and
/// receives the bytes.
public enum DNSMessage {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        /// The server answered with this RCODE (2 SERVFAIL, 5 REFUSED, ...).
        case rcode(Int)
        /// The reply belongs to another query.
        case mismatchedID

        public var description: String {
            switch self {
            case .malformed(let detail): "malformed DNS reply: \(detail)"
            case .rcode(let code): "the server answered RCODE \(code) (\(Self.rcodeName(code)))"
            case .mismatchedID: "the reply's id does not match the query's"
            }
        }

        static func rcodeName(_ code: Int) -> String {
            ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"].indices.contains(code)
                ? ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"][code] : "RCODE \(code)"
        }
    }

    static func typeCode(_ type: DNSRecordType) -> UInt16 {
        switch type {
        case .a: 1
        case .cname: 5
        case .aaaa: 28
        }
    }

    /// A query for `name`/`type`, class IN, recursion not desired (the authoritative
    /// server's own data, never a cache).
    public static func query(id: UInt16, name: String, type: DNSRecordType) throws -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in FQDN.normalized(name).split(separator: ".") {
            let utf8 = Array(label.utf8)
            guard !utf8.isEmpty, utf8.count <= 63 else { throw Failure.malformed("label \"\(label)\" of \(name) is empty or longer than 63 bytes") }
            bytes.append(UInt8(utf8.count))
            bytes += utf8
        }
        bytes.append(0)
        let code = typeCode(type)
        bytes += [UInt8(code >> 8), UInt8(code & 0xFF), 0, 1]
        return bytes
    }

    /// The reply's header bit saying it was cut to fit a UDP datagram (ask again over TCP).
    public static func isTruncated(_ reply: [UInt8]) -> Bool { reply.count >= 4 && reply[2] & 0x02 != 0 }

    /// The records of `type` for `name` in the answer section of `reply`, with the TTL of
    /// the first; nil when the name has none (NXDOMAIN, or no such record).
    public static func answer(_ reply: [UInt8], id: UInt16, name: String, type: DNSRecordType) throws -> DNSRecordSet? {
        var reader = Reader(bytes: reply)
        let replyID = try reader.u16()
        guard replyID == id else { throw Failure.mismatchedID }
        let flags = try reader.u16()
        guard flags & 0x8000 != 0 else { throw Failure.malformed("not a reply") }
        let rcode = Int(flags & 0x000F)
        if rcode == 3 { return nil }
        guard rcode == 0 else { throw Failure.rcode(rcode) }
        let questions = try reader.u16(), answers = try reader.u16()
        _ = try reader.u16()
        _ = try reader.u16()
        for _ in 0..<questions {
            _ = try reader.name()
            try reader.skip(4)
        }
        let wanted = FQDN.normalized(name), code = typeCode(type)
        var ttl: Int?
        var values: [String] = []
        for _ in 0..<answers {
            let owner = FQDN.normalized(try reader.name())
            let rtype = try reader.u16(), rclass = try reader.u16(), recordTTL = try reader.u32(), length = Int(try reader.u16())
            let end = reader.offset + length
            guard end <= reply.count else { throw Failure.malformed("record data runs past the message") }
            defer { reader.offset = end }
            guard owner == wanted, rtype == code, rclass == 1 else { continue }
            ttl = ttl ?? Int(recordTTL)
            switch type {
            case .a:
                guard length == 4 else { throw Failure.malformed("an A record of \(length) bytes") }
                values.append(reply[reader.offset..<end].map(String.init).joined(separator: "."))
            case .aaaa:
                guard length == 16 else { throw Failure.malformed("an AAAA record of \(length) bytes") }
                values.append(IPv6Text.format(Array(reply[reader.offset..<end])))
            case .cname:
                values.append(FQDN.normalized(try reader.name()))
            }
        }
        guard let ttl, !values.isEmpty else { return nil }
        return DNSRecordSet(name: wanted, type: type, ttlSeconds: ttl, values: values)
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func u8() throws -> UInt8 {
            guard offset < bytes.count else { throw Failure.malformed("the message ends early") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u16() throws -> UInt16 { UInt16(try u8()) << 8 | UInt16(try u8()) }
        mutating func u32() throws -> UInt32 { UInt32(try u16()) << 16 | UInt32(try u16()) }

        mutating func skip(_ count: Int) throws {
            guard offset + count <= bytes.count else { throw Failure.malformed("the message ends early") }
            offset += count
        }

        /// A domain name, following compression pointers (each must point backwards, so a
        /// hostile reply cannot loop).
        mutating func name() throws -> String {
            var labels: [String] = []
            var position = offset
            var jumped = false
            while true {
                guard position < bytes.count else { throw Failure.malformed("a name runs past the message") }
                let length = Int(bytes[position])
                if length & 0xC0 == 0xC0 {
                    guard position + 1 < bytes.count else { throw Failure.malformed("a truncated name pointer") }
                    let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                    guard target < position else { throw Failure.malformed("a name pointer that does not point backwards") }
                    if !jumped { offset = position + 2 }
                    jumped = true
                    position = target
                    continue
                }
                guard length & 0xC0 == 0 else { throw Failure.malformed("an unknown label type") }
                if length == 0 {
                    if !jumped { offset = position + 1 }
                    return labels.joined(separator: ".") + "."
                }
                guard position + 1 + length <= bytes.count else { throw Failure.malformed("a label runs past the message") }
                labels.append(String(decoding: bytes[(position + 1)...(position + length)], as: UTF8.self))
                position += 1 + length
            }
        }
    }
}

/// IPv6 addresses as RFC 5952 writes them (what providers' APIs and `dig` print): lower-case
/// hex, leading zeros dropped, the longest run of two or more zero groups as `::`.
enum IPv6Text {
    static func format(_ bytes: [UInt8]) -> String {
        let groups = stride(from: 0, to: 16, by: 2).map { Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]) }
        var best: (start: Int, count: Int)?
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < 8, groups[end] == 0 { end += 1 }
            if end - index >= 2, end - index > (best?.count ?? 0) { best = (index, end - index) }
            index = end
        }
        let hex = groups.map { String($0, radix: 16) }
        guard let best else { return hex.joined(separator: ":") }
        return hex[..<best.start].joined(separator: ":") + "::" + hex[(best.start + best.count)...].joined(separator: ":")
    }
}
