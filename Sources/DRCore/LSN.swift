/// A PostgreSQL write-ahead-log position (`pg_lsn`), printed as `HI/LO` in hexadecimal.
///
/// LSNs are byte offsets into the WAL stream, so the distance between two of them is the
/// amount of WAL (and therefore data) one node is behind another.
public struct LSN: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The 64-bit WAL byte position.
    public let value: UInt64

    /// The first position; `0/0` is what PostgreSQL reports for "none yet".
    public static let zero = LSN(0)

    public init(_ value: UInt64) { self.value = value }

    /// Parses PostgreSQL's text form, e.g. `16/B374D848`. Returns nil for anything else,
    /// including empty halves, non-hex digits and halves wider than 32 bits.
    public init?(_ text: some StringProtocol) {
        let parts = Substring(text).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2,
            let high = Self.parseHalf(parts[0]),
            let low = Self.parseHalf(parts[1])
        else { return nil }
        value = UInt64(high) << 32 | UInt64(low)
    }

    private static func parseHalf(_ text: Substring) -> UInt32? {
        guard (1...8).contains(text.count), text.allSatisfy(\.isHexDigit) else { return nil }
        return UInt32(text, radix: 16)
    }

    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/"
            + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.value < rhs.value }

    /// Bytes of WAL from `other` up to `self`; zero when `other` is ahead, because a node
    /// that is ahead is not "negatively behind" — it has simply seen everything.
    public func bytesAhead(of other: LSN) -> UInt64 {
        value >= other.value ? value - other.value : 0
    }

    /// Signed distance in bytes (`self - other`), for callers that must tell "ahead" apart.
    public static func - (lhs: LSN, rhs: LSN) -> Int64 {
        lhs.value >= rhs.value
            ? Int64(clamping: lhs.value - rhs.value)
            : -Int64(clamping: rhs.value - lhs.value)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let lsn = LSN(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected an LSN like 16/B374D848, got \(text)")
        }
        self = lsn
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
