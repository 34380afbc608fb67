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
@Suite struct DelayRelayTests {
    @Test func aRedirectedConnectionGetsTheConfiguredRoundTrip() async throws {
        try #require(getuid() == 0, "nftables needs root")
        let target = "127.0.9.9"
        let echo = try EchoServer(address: target)
        defer { echo.stop() }
        let mark: Int32 = 0x2b1
        let relay = DelayRelay(shape: .init(oneWay: .milliseconds(20)), mark: mark)
        try relay.start()
        defer { relay.stop() }
        let table = "drctl_relaytest_\(getpid())"
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
        try await CommandRunner.run(["nft", "-f", file])
        defer { _ = try? FileManager.default.removeItem(atPath: file) }
        do {
            let delayed = try EchoServer.roundTrips(to: target, port: echo.port, count: 10, mark: nil)
            let direct = try EchoServer.roundTrips(to: target, port: echo.port, count: 10, mark: mark)
            let median = { (values: [Duration]) in values.sorted()[values.count / 2] }
            #expect(delayed.allSatisfy { $0 >= .milliseconds(40) }, "every round trip through the relay waits 20 ms each way: \(delayed)")
            #expect(median(delayed) < .milliseconds(100), "and not much more: \(delayed)")
            #expect(median(direct) < .milliseconds(10), "a marked connection bypasses the relay: \(direct)")
        } catch {
            _ = try? await CommandRunner.run(["nft", "delete", "table", "ip", table])
            throw error
        }
        try await CommandRunner.run(["nft", "delete", "table", "ip", table])
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
