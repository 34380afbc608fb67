import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A transparent TCP relay that delays what it forwards: the lab's inter-region latency.
///
/// This kernel has no `netem` qdisc and no NFQUEUE (`../shared/PLATFORM.md`), so latency is
/// added in user space: nftables redirects the connections to be delayed to this relay,
/// which reads where each was going (`SO_ORIGINAL_DST`), connects there itself (its own
/// sockets carry `mark`, which the redirect rule skips), and forwards each direction's bytes
/// after `oneWay` (± `jitter`). TCP cannot lose bytes, so `loss` is what a lost segment costs
/// TCP: with that probability a chunk (and, to keep the stream in order, what follows it)
/// waits one more retransmission time-out. Blocking sockets on dedicated threads: nothing
/// here runs on Swift's cooperative pool.
public final class DelayRelay: @unchecked Sendable {
    public struct Shape: Sendable, Equatable {
        /// Added to each direction (half the round trip).
        public var oneWay: Duration
        public var jitter: Duration
        /// Probability that a chunk is "lost" and waits `retransmission` more.
        public var loss: Double
        public var retransmission: Duration

        public init(oneWay: Duration, jitter: Duration = .zero, loss: Double = 0, retransmission: Duration = .milliseconds(200)) {
            self.oneWay = oneWay
            self.jitter = jitter
            self.loss = loss
            self.retransmission = retransmission
        }
    }

    public let shape: Shape
    /// The firewall mark of the relay's own outgoing connections (the redirect skips them).
    public let mark: Int32
    public private(set) var port: Int = 0
    private var listener: Int32 = -1
    private let lock = NSLock()
    private var open: Set<Int32> = []
    private var stopped = false

    public init(shape: Shape, mark: Int32) {
        self.shape = shape
        self.mark = mark
    }

    /// Listens on `address`:`port` (0: a free port, then in `port`) and serves until `stop`.
    public func start(address: String = "127.0.0.1", port requested: Int = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RelayError.system("socket", errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(requested).bigEndian)
        inet_pton(AF_INET, address, &addr.sin_addr)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 128) == 0 else {
            let error = errno
            close(fd)
            throw RelayError.system("bind/listen on \(address):\(requested)", error)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: actual.sin_port))
        listener = fd
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.name = "drctl.relay.accept"
        thread.start()
    }

    /// Stops accepting and closes every connection.
    public func stop() {
        let fds: Set<Int32> = lock.withLock {
            stopped = true
            return open
        }
        if listener >= 0 { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop(_ listener: Int32) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            guard let target = Self.originalDestination(client) else {
                close(client)
                continue
            }
            let thread = Thread { [self] in connect(client, to: target) }
            thread.name = "drctl.relay.connect"
            thread.start()
        }
    }

    private func connect(_ client: Int32, to target: sockaddr_in) {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var mark = self.mark
        setsockopt(upstream, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<Int32>.size))
        var destination = target
        // The connection is set up at once; the delay applies to what flows (a SYN's own
        // delay would only add one more round trip to every connect).
        let connected = withUnsafePointer(to: &destination) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // Small writes go at once: Nagle's wait would add to the delay being shaped.
        var nodelay: Int32 = 1
        for fd in [client, upstream] { setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &nodelay, socklen_t(MemoryLayout<Int32>.size)) }
        guard connected == 0, register([client, upstream]) else {
            close(client)
            close(upstream)
            return
        }
        let pumps = [Pump(from: client, to: upstream, shape: shape), Pump(from: upstream, to: client, shape: shape)]
        let finished = DispatchGroup()
        for pump in pumps {
            finished.enter()
            pump.run { finished.leave() }
        }
        finished.wait()
        lock.withLock {
            open.remove(client)
            open.remove(upstream)
        }
        close(client)
        close(upstream)
    }

    private func register(_ fds: [Int32]) -> Bool {
        lock.withLock {
            guard !stopped else { return false }
            open.formUnion(fds)
            return true
        }
    }

    /// Where a redirected connection was going (netfilter's `SO_ORIGINAL_DST`, 80 in
    /// `<linux/netfilter_ipv4.h>`).
    static func originalDestination(_ fd: Int32) -> sockaddr_in? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let soOriginalDst: Int32 = 80
        guard getsockopt(fd, Int32(IPPROTO_IP), soOriginalDst, &address, &length) == 0 else { return nil }
        return address
    }
}

/// One direction of a relayed connection: a reader thread stamps each chunk with when it
/// may go, a writer thread sends it then. The order of the stream is kept.
private final class Pump: @unchecked Sendable {
    let from: Int32, to: Int32
    let shape: DelayRelay.Shape
    private let condition = NSCondition()
    private var queue: [(due: ContinuousClock.Instant, bytes: [UInt8]?)] = []
    private var lastDue = ContinuousClock.now

    init(from: Int32, to: Int32, shape: DelayRelay.Shape) {
        self.from = from
        self.to = to
        self.shape = shape
    }

    func run(done: @escaping @Sendable () -> Void) {
        let reader = Thread { [self] in read() }
        let writer = Thread { [self] in
            write()
            done()
        }
        reader.start()
        writer.start()
    }

    private func delay() -> Duration {
        var delay = shape.oneWay
        if shape.jitter > .zero {
            let range = shape.jitter.nanoseconds
            delay += .nanoseconds(Int64.random(in: -range...range))
        }
        if shape.loss > 0, Double.random(in: 0..<1) < shape.loss { delay += shape.retransmission }
        return max(delay, .zero)
    }

    private func read() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            let chunk: [UInt8]? = count > 0 ? Array(buffer[0..<count]) : nil
            condition.withLock {
                // Never before what was read earlier: TCP delivers in order.
                let due = max(ContinuousClock.now + delay(), lastDue)
                lastDue = due
                queue.append((due, chunk))
                condition.signal()
            }
            if chunk == nil { return }
        }
    }

    private func write() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let head = queue.removeFirst()
            condition.unlock()
            let wait = head.due - ContinuousClock.now
            if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.nanoseconds) / 1e9) }
            guard let bytes = head.bytes else {
                shutdown(to, Int32(SHUT_WR))
                return
            }
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { send(to, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0, errno == EINTR { continue }
                if n <= 0 {
                    shutdown(from, Int32(SHUT_RD))
                    return
                }
                sent += n
            }
        }
    }
}

public enum RelayError: Error, CustomStringConvertible {
    case system(String, Int32)

    public var description: String {
        switch self {
        case let .system(call, code): "\(call) failed: \(String(cString: strerror(code)))"
        }
    }
}
