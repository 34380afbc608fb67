import Foundation

/// A TCP listener on 127.0.0.1 that answers HTTP requests with fixed responses, one per
/// connection, and closes: an etcd member caught in an election, as its JSON gateway answers
/// (a 503, or a stream's 200 with the error as its only message), which a real cluster shows
/// only for an instant.
final class CannedHTTPServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let responses: [[UInt8]]
    private var answered = 0
    private let lock = NSLock()

    /// Answers every request with `body`.
    convenience init(status: String = "200 OK", body: String) throws {
        try self.init(answers: [(status, body)])
    }

    /// Answers the n-th request with `answers[n]`, and every request after the last with the last.
    init(answers: [(status: String, body: String)]) throws {
        precondition(!answers.isEmpty, "a canned server needs an answer")
        (fd, port) = try SilentServer.listen()
        responses = answers.map { status, body in
            Array("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
        }
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    /// Requests answered so far.
    var requests: Int { lock.withLock { answered } }

    /// Closes the listener; its thread ends.
    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }  // closed
            // Reads the request's head and body (small: one keep-alive request), then answers.
            var buffer = [UInt8](repeating: 0, count: 65536)
            var received: [UInt8] = []
            while true {
                let n = read(client, &buffer, buffer.count)
                if n <= 0 { break }
                received += buffer[0..<n]
                if let head = String(decoding: received, as: UTF8.self).range(of: "\r\n\r\n") {
                    let text = String(decoding: received, as: UTF8.self)
                    let length =
                        text.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                    if text[head.upperBound...].utf8.count >= length { break }
                }
            }
            // Counted before the answer goes out: a client that has its answer sees the count.
            let index = lock.withLock {
                defer { answered += 1 }
                return answered
            }
            let response = responses[min(index, responses.count - 1)]
            _ = response.withUnsafeBytes { write(client, $0.baseAddress, response.count) }
            close(client)
        }
    }
}
