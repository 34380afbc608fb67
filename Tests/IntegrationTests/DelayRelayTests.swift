import DRLab
import DRSystem
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The lab's latency relay (issue 12's inter-region delay), on loopback: nftables
/// redirects connections to a test address to the relay, which forwards them to where they
/// were going after the configured delay each way; its own connections bypass the redirect.
@Suite(.tags(.root), .needsRoot, .timeLimit(.minutes(2))) struct DelayRelayTests {
    @Test func aRedirectedConnectionGetsTheConfiguredRoundTrip() async throws {
        try await Self.throughRelay(DelayRelay.Shape(oneWay: .milliseconds(20))) { target, port, mark in
            let delayed = try EchoServer.roundTrips(to: target, port: port, count: 10, mark: nil)
            let direct = try EchoServer.roundTrips(to: target, port: port, count: 10, mark: mark)
            let median = { (values: [Duration]) in values.sorted()[values.count / 2] }
            #expect(delayed.allSatisfy { $0 >= .milliseconds(40) }, "every round trip through the relay waits 20 ms each way: \(delayed)")
            #expect(median(delayed) < .milliseconds(100), "and not much more: \(delayed)")
            #expect(median(direct) < .milliseconds(10), "a marked connection bypasses the relay: \(direct)")
        }
    }

    /// Jitter and "lost" chunks reorder nothing: TCP's stream arrives whole and in order;
    /// and a lost chunk costs a retransmission's wait.
    @Test func jitterAndLossKeepTheStreamInOrder() async throws {
        let shaky = DelayRelay.Shape(oneWay: .milliseconds(5), jitter: .milliseconds(4), loss: 0.3, retransmission: .milliseconds(50))
        try await Self.throughRelay(shaky) { target, port, _ in
            let (sent, received) = try EchoServer.stream(to: target, port: port, messages: 200)
            #expect(received == sent, "every byte back, in order")
        }
        let lossy = DelayRelay.Shape(oneWay: .milliseconds(5), loss: 1, retransmission: .milliseconds(50))
        try await Self.throughRelay(lossy) { target, port, _ in
            let times = try EchoServer.roundTrips(to: target, port: port, count: 5, mark: nil)
            #expect(times.allSatisfy { $0 >= .milliseconds(110) }, "each way 5 ms and one retransmission: \(times)")
        }
    }

    /// An echo server on a test address, `shape`'s relay, and the nftables redirect from the
    /// one to the other for `body` (target, port, the relay's mark); all removed afterwards.
    static func throughRelay(_ shape: DelayRelay.Shape, _ body: @escaping @Sendable (String, Int, Int32) throws -> Void) async throws {
        let target = "127.0.9.9"
        let echo = try EchoServer(address: target)
        defer { echo.stop() }
        let mark: Int32 = 0x2b1
        let relay = DelayRelay(shape: shape, mark: mark)
        try relay.start()
        defer { relay.stop() }
        let table = "drctl_relaytest_\(getpid())_\(echo.port)"
        let rules = """
            table ip \(table) {
              chain out {
                type nat hook output priority -100; policy accept;
                meta mark \(mark) return
                ip daddr \(target) tcp dport \(echo.port) redirect to :\(relay.port)
              }
            }

            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(table).nft").path
        try rules.write(toFile: file, atomically: true, encoding: .utf8)
        defer { _ = try? FileManager.default.removeItem(atPath: file) }
        try await CommandRunner.run(["nft", "-f", file])
        let outcome = await Task.detached { Result { try body(target, echo.port, mark) } }.value
        _ = try? await CommandRunner.run(["nft", "delete", "table", "ip", table])
        try outcome.get()
    }
}

/// A TCP echo server on its own thread, and a client that times round trips (both in the
/// network namespace of the thread that makes them).
final class EchoServer: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init(address: String) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, address, &addr.sin_addr)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(listener, 16) == 0, "echo server on \(address)")
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        fd = listener
        port = Int(UInt16(bigEndian: actual.sin_port))
        Thread {
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                Thread {
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while true {
                        let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                        if n <= 0 { break }
                        _ = buffer.withUnsafeBytes { send(client, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
                    }
                    close(client)
                }.start()
            }
        }.start()
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    /// Sends `messages` numbered 8-byte messages a millisecond apart and reads the echo:
    /// what was sent and what came back.
    static func stream(to address: String, port: Int, messages: Int) throws -> (sent: [UInt8], received: [UInt8]) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, address, &addr.sin_addr)
        let connected = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(connected == 0, "connect to \(address):\(port)")
        var sent: [UInt8] = []
        for index in 0..<messages {
            var value = UInt64(index).bigEndian
            let bytes = withUnsafeBytes(of: &value) { Array($0) }
            sent += bytes
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, 8, Int32(MSG_NOSIGNAL)) }
            usleep(1000)
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < sent.count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return (sent, received)
    }

    /// `count` one-byte round trips on one connection (marked with `mark` when given).
    static func roundTrips(to address: String, port: Int, count: Int, mark: Int32?) throws -> [Duration] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        if var mark { setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<Int32>.size)) }
        var nodelay: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &nodelay, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, address, &addr.sin_addr)
        let connected = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(connected == 0, "connect to \(address):\(port)")
        let clock = ContinuousClock()
        var times: [Duration] = []
        var byte: UInt8 = 42
        for _ in 0..<count {
            let started = clock.now
            _ = send(fd, &byte, 1, Int32(MSG_NOSIGNAL))
            _ = recv(fd, &byte, 1, 0)
            times.append(clock.now - started)
        }
        return times
    }
}
