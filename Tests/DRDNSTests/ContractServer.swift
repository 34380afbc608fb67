import Foundation

/// A minimal HTTP/1.1 server on 127.0.0.1 for contract tests: each connection carries one
/// request, answered by `handler` on a dedicated thread (never the cooperative pool).
/// It stands in for an API we cannot reach here, and checks requests as its docs say.
final class ContractServer: @unchecked Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var query: [(String, String)]
        var rawTarget: String
        /// Header names lower-cased.
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    enum Reply: Sendable {
        case respond(status: Int, headers: [(String, String)], body: String)
        /// Accept the request and never answer (a hung provider).
        case hang
    }

    let port: Int
    private let fd: Int32
    private let handler: @Sendable (Request) -> Reply
    private let lock = NSLock()
    private var received: [Request] = []
    private var hung: [Int32] = []

    var requests: [Request] { lock.withLock { received } }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(handler: @escaping @Sendable (Request) -> Reply) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 64) == 0 else { throw CocoaError(.fileWriteUnknown) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        let thread = Thread { [weak self] in self?.acceptLoop() }
        thread.start()
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        lock.withLock { for descriptor in hung { close(descriptor) } }
    }

    private func acceptLoop() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            Thread { [weak self] in self?.serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        guard let request = readRequest(client) else { close(client); return }
        lock.withLock { received.append(request) }
        switch handler(request) {
        case .hang:
            lock.withLock { hung.append(client) }
        case let .respond(status, headers, body):
            let bytes = Array(body.utf8)
            var head = "HTTP/1.1 \(status) Status\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            let data = Array((head + "\r\n").utf8) + bytes
            _ = data.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(client)
        }
    }

    private func readRequest(_ client: Int32) -> Request? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            let n = recv(client, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
            if headerEnd == nil, let end = buffer.firstRange(of: Array("\r\n\r\n".utf8))?.lowerBound {
                headerEnd = end
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let end = headerEnd, buffer.count >= end + 4 + contentLength { break }
        }
        let end = headerEnd!
        let lines = String(decoding: buffer[0..<end], as: UTF8.self).split(separator: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let target = String(requestLine[1])
        let parts = target.split(separator: "?", maxSplits: 1)
        let query: [(String, String)] =
            parts.count > 1
            ? parts[1].split(separator: "&").map { pair in
                let kv = pair.split(separator: "=", maxSplits: 1)
                return (String(kv[0]).removingPercentEncoding ?? String(kv[0]), kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : "")
            } : []
        return Request(
            method: String(requestLine[0]), path: String(parts[0]), query: query, rawTarget: target, headers: headers,
            body: Array(buffer[(end + 4)..<(end + 4 + contentLength)]))
    }
}

/// Failures a contract test queues for the next requests, and the violations a fake
/// provider found in what drctl sent.
final class FaultQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var faults: [ContractServer.Reply] = []
    private var found: [String] = []

    func push(_ replies: ContractServer.Reply...) { lock.withLock { faults += replies } }
    func next() -> ContractServer.Reply? { lock.withLock { faults.isEmpty ? nil : faults.removeFirst() } }
    func violation(_ text: String) { lock.withLock { found.append(text) } }
    var violations: [String] { lock.withLock { found } }
}
