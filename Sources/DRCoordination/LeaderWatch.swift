import Foundation
import Synchronization

/// One long-lived watch of the leader key per coordinator, shared by every wait: a standby
/// learns at once that the key changed (a failover starts without waiting out its pause),
/// over one connection kept open — not a watch opened and aborted every loop, each abort
/// closing a connection.
///
/// The stream is reopened, from the first revision not yet seen, when it breaks, after
/// `lifetime`, and when the gateway moved to another member (a call failed over): a stream
/// to a member cut off would otherwise stay open and silent. A wait whose stream is down
/// merely times out, and its caller reads etcd as always. Nobody waiting for `idle`: the
/// stream closes.
final class LeaderWatch: Sendable {
    let gateway: EtcdGateway
    let key: String
    let lifetime: Duration
    let idle: Duration

    private struct Waiter {
        var after: Int64
        var continuation: AsyncStream<Bool>.Continuation
    }

    private struct State {
        var running = false
        /// The next stream's start revision: every change before it has been seen.
        var resumeFrom: Int64 = 0
        /// The newest revision at which the key changed (or a gap in the stream was seen).
        var changedAt: Int64 = 0
        var lastAsked = ContinuousClock.now
        var waiters: [Int: Waiter] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    init(gateway: EtcdGateway, key: String, lifetime: Duration = .seconds(300), idle: Duration = .seconds(60)) {
        self.gateway = gateway
        self.key = key
        self.lifetime = lifetime
        self.idle = idle
    }

    /// True as soon as the key changes at a revision after `revision`; false when `limit`
    /// passes first (or the caller is cancelled).
    func wait(after revision: Int64, within limit: Duration) async -> Bool {
        let (changes, continuation) = AsyncStream.makeStream(of: Bool.self)
        let (id, start): (Int?, Bool) = state.withLock { state in
            state.lastAsked = .now
            if state.changedAt > revision { return (nil, false) }
            var start = false
            if !state.running {
                state.running = true
                state.resumeFrom = revision + 1
                start = true
            }
            state.nextID += 1
            state.waiters[state.nextID] = Waiter(after: revision, continuation: continuation)
            return (state.nextID, start)
        }
        guard let id else { return true }
        if start { Task.detached { await self.run() } }
        let timer = Task {
            try? await Task.sleep(for: limit)
            self.drop(id)
        }
        defer {
            timer.cancel()
            drop(id)
        }
        for await changed in changes { return changed }
        return false
    }

    /// Someone waits, or waited within `idle`.
    private var wanted: Bool { state.withLock { ContinuousClock.now - $0.lastAsked <= idle || !$0.waiters.isEmpty } }

    private func drop(_ id: Int) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.finish()
    }

    /// Streams until nobody has waited for `idle`.
    private func run() async {
        while true {
            let from: Int64? = state.withLock { state in
                if ContinuousClock.now - state.lastAsked > idle, state.waiters.isEmpty {
                    state.running = false
                    return nil
                }
                // Changes up to what every waiter has read are known to it already.
                if let oldest = state.waiters.values.map(\.after).min() { state.resumeFrom = max(state.resumeFrom, oldest + 1) }
                return state.resumeFrom
            }
            guard let from else { return }
            let endpoint = gateway.preferredEndpoint
            let ends = ContinuousClock.now + lifetime
            do {
                try await gateway.stream(
                    ["key": EtcdJSON.base64(key), "start_revision": String(from)], on: endpoint, lifetime: lifetime + .seconds(10),
                    keepGoing: { [self] in ContinuousClock.now < ends && gateway.preferredEndpoint == endpoint && wanted },
                    message: { [weak self] in self?.handle($0) })
            } catch {
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// One message of the stream: events move `changedAt` and wake the waiters they concern;
    /// a cancelled watch (its start revision compacted away) counts as a change.
    func handle(_ message: [String: Any]) {
        guard let result = message["result"] as? [String: Any] else { return }
        let header = EtcdJSON.int64((result["header"] as? [String: Any])?["revision"]) ?? 0
        var revision: Int64?
        if let events = result["events"] as? [[String: Any]], !events.isEmpty {
            revision = events.compactMap { EtcdJSON.int64(($0["kv"] as? [String: Any])?["mod_revision"]) }.max() ?? header
        } else if result["canceled"] as? Bool == true {
            revision = max(header, EtcdJSON.int64(result["compact_revision"]) ?? 0)
        }
        guard let revision else { return }
        let woken: [AsyncStream<Bool>.Continuation] = state.withLock { state in
            state.changedAt = max(state.changedAt, revision)
            state.resumeFrom = max(state.resumeFrom, revision + 1)
            let due = state.waiters.filter { $0.value.after < revision }
            for id in due.keys { state.waiters.removeValue(forKey: id) }
            return due.values.map(\.continuation)
        }
        for continuation in woken {
            continuation.yield(true)
            continuation.finish()
        }
    }
}
