/// A libpq connection string, parsed far enough to show and address a node: its keywords
/// in either libpq syntax (`host=a port=5432` or `postgresql://user@a:5432/db?x=y`).
///
/// libpq itself still interprets the original string at connect time; this parse exists so
/// that `status` can print host and port and so that passwords can be refused and redacted.
public struct Conninfo: Sendable, Equatable {
    /// Keywords as libpq names them (`host`, `port`, `user`, `dbname`, `password`, …).
    public var parameters: [String: String]

    public init(parameters: [String: String]) { self.parameters = parameters }

    /// The first host (libpq accepts comma-separated lists), `localhost` if none is given.
    public var host: String {
        let hosts = parameters["host"] ?? parameters["hostaddr"] ?? "localhost"
        return String(hosts.split(separator: ",").first ?? "localhost")
    }

    /// The first port, 5432 if none is given.
    public var port: Int {
        (parameters["port"]?.split(separator: ",").first).flatMap { Int($0) } ?? 5432
    }

    public var hasPassword: Bool { parameters["password"] != nil }

    /// The same connection as key=value text, with `overrides` applied (e.g. another dbname).
    public func rendered(overriding overrides: [String: String] = [:]) -> String {
        parameters.merging(overrides) { $1 }.sorted { $0.key < $1.key }.map { key, value in
            let escaped = value.replacing("\\", with: "\\\\").replacing("'", with: "\\'")
            return escaped.isEmpty || escaped.contains(" ") || escaped != value ? "\(key)='\(escaped)'" : "\(key)=\(value)"
        }.joined(separator: " ")
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case unterminatedQuote
        case missingEquals(near: String)
        case badURI(String)

        public var description: String {
            switch self {
            case .unterminatedQuote: "a single-quoted value is not closed"
            case .missingEquals(let word): "expected keyword=value, found \"\(word)\""
            case .badURI(let why): "malformed URI: \(why)"
            }
        }
    }

    public static func parse(_ text: String) throws(ParseError) -> Conninfo {
        if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
            return try parseURI(text)
        }
        return try parseKeywords(text)
    }

    private static func parseKeywords(_ text: String) throws(ParseError) -> Conninfo {
        var parameters: [String: String] = [:]
        var chars = Substring(text)
        func skipSpaces() { while chars.first?.isWhitespace == true { chars.removeFirst() } }
        while true {
            skipSpaces()
            guard !chars.isEmpty else { break }
            let key = chars.prefix { $0 != "=" && !$0.isWhitespace }
            chars = chars.dropFirst(key.count)
            skipSpaces()
            guard chars.first == "=" else { throw .missingEquals(near: String(key)) }
            chars.removeFirst()
            skipSpaces()
            var value = ""
            if chars.first == "'" {
                chars.removeFirst()
                var closed = false
                while let c = chars.popFirst() {
                    if c == "\\", let next = chars.popFirst() { value.append(next); continue }
                    if c == "'" { closed = true; break }
                    value.append(c)
                }
                guard closed else { throw .unterminatedQuote }
            } else {
                while let c = chars.first, !c.isWhitespace {
                    chars.removeFirst()
                    if c == "\\", let next = chars.popFirst() { value.append(next) } else { value.append(c) }
                }
            }
            parameters[String(key)] = value
        }
        return Conninfo(parameters: parameters)
    }

    private static func parseURI(_ text: String) throws(ParseError) -> Conninfo {
        var rest = Substring(text.drop { $0 != ":" }.dropFirst(3))
        var parameters: [String: String] = [:]
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { throw .badURI("query parameter \"\(pair)\" has no value") }
                parameters[percentDecoded(kv[0])] = percentDecoded(kv[1])
            }
            rest = rest[..<q]
        }
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty { parameters["dbname"] = percentDecoded(db) }
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            let parts = userinfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            if !parts[0].isEmpty { parameters["user"] = percentDecoded(parts[0]) }
            if parts.count == 2 { parameters["password"] = percentDecoded(parts[1]) }
            rest = rest[rest.index(after: at)...]
        }
        var hosts: [String] = [], ports: [String] = []
        for hostport in rest.split(separator: ",") {
            var host = hostport, port: Substring? = nil
            if hostport.hasPrefix("[") {
                guard let close = hostport.firstIndex(of: "]") else { throw .badURI("unclosed [ in host") }
                host = hostport[hostport.index(after: hostport.startIndex)..<close]
                let after = hostport[hostport.index(after: close)...]
                if after.hasPrefix(":") { port = after.dropFirst() }
            } else if let colon = hostport.lastIndex(of: ":") {
                host = hostport[..<colon]
                port = hostport[hostport.index(after: colon)...]
            }
            if let port, Int(port) == nil { throw .badURI("port \"\(port)\" is not a number") }
            hosts.append(percentDecoded(host))
            if let port { ports.append(String(port)) }
        }
        if !hosts.isEmpty, hosts.contains(where: { !$0.isEmpty }) { parameters["host"] = hosts.joined(separator: ",") }
        if !ports.isEmpty { parameters["port"] = ports.joined(separator: ",") }
        return Conninfo(parameters: parameters)
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let h = iterator.next(), let l = iterator.next(),
                let value = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The string with any password replaced, safe to print or log.
    public static func redacted(_ text: String) -> String {
        guard let parsed = try? parse(text), parsed.hasPassword else { return text }
        return parsed.parameters.keys.sorted().map { key in
            let value = key == "password" ? "********" : parsed.parameters[key, default: ""]
            return "\(key)=\(quoted(value))"
        }.joined(separator: " ")
    }

    private static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\\" }) else {
            return value
        }
        let escaped = value.replacing("\\", with: "\\\\").replacing("'", with: "\\'")
        return "'\(escaped)'"
    }
}
