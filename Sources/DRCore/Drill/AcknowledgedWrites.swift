import Foundation

/// The writes a test or drill client saw acknowledged: which id, by which server, when (on
/// this host's monotonic clock). Only acknowledged commits are recorded, so any of them
/// missing from the surviving primary afterwards is data an application lost.
public final class AcknowledgedWrites: @unchecked Sendable {
    public struct Write: Sendable {
        public var id: Int64
        public var server: String
        public var at: ContinuousClock.Instant
    }

    private let lock = NSLock()
    private var writes: [Write] = []

    public init() {}

    public func add(_ id: Int64, server: String, at: ContinuousClock.Instant = .now) {
        lock.withLock { writes.append(Write(id: id, server: server, at: at)) }
    }

    public var all: [Write] { lock.withLock { writes } }
    public var ids: [Int64] { all.map(\.id) }
    public var count: Int { lock.withLock { writes.count } }

    /// How long acknowledged writes were lost for: from the last write that survived before
    /// the first lost one to the last lost one; zero when none was lost.
    public func lossWindow(survivors: Set<Int64>) -> Duration {
        let writes = all
        guard let firstLost = writes.firstIndex(where: { !survivors.contains($0.id) }),
            let lastLost = writes.lastIndex(where: { !survivors.contains($0.id) })
        else { return .zero }
        let before = writes[..<firstLost].last { survivors.contains($0.id) }?.at ?? writes[firstLost].at
        return writes[lastLost].at - before
    }

    /// The first write acknowledged after `instant`, by `server` if given.
    public func first(after instant: ContinuousClock.Instant, from server: String? = nil) -> Write? {
        all.first { $0.at > instant && (server == nil || $0.server == server) }
    }

    /// The first outage that ends after `instant`: two consecutive acknowledged writes at
    /// least `threshold` apart, the second after `instant`. A fault is asked for before it
    /// strikes, so writes acknowledged just after `instant` by the still-running server are
    /// not the recovery; the gap is.
    public func outage(endingAfter instant: ContinuousClock.Instant, threshold: Duration) -> (lastBefore: Write, resumed: Write)? {
        Self.outage(in: all, endingAfter: instant, threshold: threshold)
    }

    static func outage(in writes: [Write], endingAfter instant: ContinuousClock.Instant, threshold: Duration) -> (lastBefore: Write, resumed: Write)? {
        zip(writes, writes.dropFirst()).first { $1.at > instant && $1.at - $0.at >= threshold }.map { (lastBefore: $0, resumed: $1) }
    }

    /// The median time between consecutive writes acknowledged before `instant`: the
    /// client's pace in steady state.
    public func typicalGap(before instant: ContinuousClock.Instant) -> Duration? {
        let writes = all.filter { $0.at < instant }
        let gaps = zip(writes, writes.dropFirst()).map { $1.at - $0.at }.sorted()
        return gaps.isEmpty ? nil : gaps[gaps.count / 2]
    }

    /// The longest time between two consecutive acknowledged writes (a client's outage).
    public var longestGap: Duration {
        let writes = all
        return zip(writes, writes.dropFirst()).map { $1.at - $0.at }.max() ?? .zero
    }
}
