import DRCore
import Dispatch
import Foundation

/// Asks one authoritative server one question over UDP, and again over TCP when the reply
/// was truncated. The socket calls block, so they run on a queue of their own, never on
/// Swift's cooperative pool. No `dig` is needed on the agent's host.
public struct DNSQueryClient: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case resolve(host: String, detail: String)
        case io(server: String, detail: String)

        public var description: String {
            switch self {
            case let .resolve(host, detail): "cannot resolve the name server \(host): \(detail)"
            case let .io(server, detail): "querying \(server): \(detail)"
            }
        }
    }

    /// How long to wait for each reply.
    public var timeout: Duration

    private static let queue = DispatchQueue(label: "drctl.dns-query", attributes: .concurrent)

    public init(timeout: Duration = .seconds(1)) { self.timeout = timeout }

    /// What `host`:`port` serves for `name`/`type`; nil when it has no such record.
    public func answer(host: String, port: Int, name: String, type: DNSRecordType) async throws -> DNSRecordSet? {
        let id = UInt16.random(in: 0...UInt16.max)
        let query = try DNSMessage.query(id: id, name: name, type: type)
        let timeout = self.timeout
        let reply = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
            Self.queue.async {
                continuation.resume(
                    with: Result {
                        let server = "\(host):\(port)"
                        let udp = try Self.exchange(query, host: host, port: port, stream: false, timeout: timeout, server: server)
                        guard DNSMessage.isTruncated(udp) else { return udp }
                        return try Self.exchange(query, host: host, port: port, stream: true, timeout: timeout, server: server)
                    })
            }
        }
        return try DNSMessage.answer(reply, id: id, name: name, type: type)
    }

    /// One query and its reply on a new socket to each address of `host` in turn.
    private static func exchange(_ query: [UInt8], host: String, port: Int, stream: Bool, timeout: Duration, server: String) throws -> [UInt8] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else { throw Failure.resolve(host: host, detail: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), address.pointee.ai_protocol)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            defer { close(fd) }
            var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            guard connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 else {
                lastError = "connect: \(String(cString: strerror(errno)))"
                continue
            }
            do {
                return stream ? try tcpExchange(fd, query) : try udpExchange(fd, query)
            } catch {
                lastError = error.detail
            }
        }
        throw Failure.io(server: server, detail: lastError)
    }

    private static func udpExchange(_ fd: Int32, _ query: [UInt8]) throws(SocketFailure) -> [UInt8] {
        guard send(fd, query, query.count, 0) == query.count else { throw SocketFailure(detail: "send: \(String(cString: strerror(errno)))") }
        var buffer = [UInt8](repeating: 0, count: 65_535)
        let received = recv(fd, &buffer, buffer.count, 0)
        guard received > 0 else {
            throw SocketFailure(detail: received == 0 ? "empty reply" : errno == EAGAIN ? "no reply within the time-out" : "recv: \(String(cString: strerror(errno)))")
        }
        return Array(buffer[..<received])
    }

    /// TCP frames each message with its length in two bytes (RFC 1035 section 4.2.2).
    private static func tcpExchange(_ fd: Int32, _ query: [UInt8]) throws(SocketFailure) -> [UInt8] {
        let framed = [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query
        guard send(fd, framed, framed.count, Int32(MSG_NOSIGNAL)) == framed.count else { throw SocketFailure(detail: "send: \(String(cString: strerror(errno)))") }
        let header = try readExactly(fd, 2)
        return try readExactly(fd, Int(header[0]) << 8 | Int(header[1]))
    }

    private static func readExactly(_ fd: Int32, _ count: Int) throws(SocketFailure) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let received = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, count - filled, 0) }
            guard received > 0 else {
                throw SocketFailure(detail: received == 0 ? "the server closed the connection" : "recv: \(String(cString: strerror(errno)))")
            }
            filled += received
        }
        return bytes
    }
}

/// Why one exchange on one socket failed (the next address is tried).
private struct SocketFailure: Error {
    var detail: String
}
