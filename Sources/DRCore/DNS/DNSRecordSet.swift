/// One DNS name and type with its TTL and values, as the providers' APIs exchange it.
public struct DNSRecordSet: Sendable, Equatable, CustomStringConvertible {
    /// Fully qualified, lower case, with the trailing dot.
    public var name: String
    public var type: DNSRecordType
    public var ttlSeconds: Int
    /// Addresses (A/AAAA) or one target name (CNAME, fully qualified).
    public var values: [String]

    public init(name: String, type: DNSRecordType, ttlSeconds: Int, values: [String]) {
        self.name = FQDN.normalized(name)
        self.type = type
        self.ttlSeconds = ttlSeconds
        self.values = values.map { type == .cname ? FQDN.normalized($0) : $0 }.sorted()
    }

    /// The same answer: values and TTL (names compare without case and trailing dot).
    public func matches(_ other: DNSRecordSet) -> Bool {
        name == other.name && type == other.type && ttlSeconds == other.ttlSeconds && values == other.values
    }

    public var description: String { "\(name) \(ttlSeconds) \(type.rawValue) \(values.joined(separator: ","))" }
}
