import DRCore

/// Asks authoritative name servers what they serve, directly over DNS with recursion off,
/// so the answer is the provider's and not a resolver's cache.
public struct DNSVerifier: Sendable {
    public struct Server: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var description: String { port == 53 ? host : "\(host):\(port)" }

        /// `host`, `host:port`, or `[v6]:port`.
        public static func parse(_ text: String) -> Server? {
            if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                let host = String(text[text.index(after: text.startIndex)..<close])
                let rest = text[text.index(after: close)...]
                if rest.isEmpty { return Server(host: host, port: 53) }
                guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()) else { return nil }
                return Server(host: host, port: port)
            }
            let parts = text.split(separator: ":")
            if parts.count == 2, let port = Int(parts[1]) { return Server(host: String(parts[0]), port: port) }
            // A bare name, IPv4 address, or an IPv6 address without brackets: port 53.
            return Server(host: text, port: 53)
        }
    }

    public let servers: [Server]

    public init(servers: [Server]) { self.servers = servers }

    /// What `server` answers for `name`/`type`; nil for no such record.
    public func answer(from server: Server, name: String, type: DNSRecordType) async throws -> DNSRecordSet? {
        try await DNSQueryClient(timeout: .seconds(1)).answer(host: server.host, port: server.port, name: name, type: type)
    }

    /// Polls every server until each serves `set` or the deadline passes; returns the
    /// servers that still did not, with what they served.
    public func waitUntilServed(_ set: DNSRecordSet, deadline: ContinuousClock.Instant) async -> [String] {
        let clock = ContinuousClock()
        var pending = servers
        var last: [String: String] = [:]
        while true {
            var still: [Server] = []
            for server in pending {
                do {
                    let served = try await answer(from: server, name: set.name, type: set.type)
                    if served?.matches(set) != true {
                        still.append(server)
                        last[server.description] = served?.description ?? "no record"
                    }
                } catch {
                    still.append(server)
                    last[server.description] = "\(error)"
                }
            }
            pending = still
            if pending.isEmpty || clock.now + .milliseconds(100) >= deadline {
                return pending.map { "\($0) serves \(last[$0.description] ?? "?")" }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
