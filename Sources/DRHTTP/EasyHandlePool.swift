import CCurl
import Synchronization

/// A client's idle libcurl easy handles. Each keeps the connections it opened (libcurl's
/// per-handle connection cache), so taking an idle handle for the next request reuses a
/// live keep-alive connection to the same host; libcurl checks a cached connection before
/// it reuses it and opens a fresh one when the old one died (a peer restarted, a cut that
/// healed). `curl_easy_reset` clears a handle's options between requests, not its
/// connections. At most `capacity` idle handles are kept; the rest are closed.
final class EasyHandlePool: Sendable {
    /// A handle is used by one thread at a time: the pool hands it out, then takes it back.
    private struct Handle: @unchecked Sendable { let pointer: UnsafeMutableRawPointer }

    private struct State: ~Copyable {
        var idle: [Handle] = []
        var opened = 0
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int = 8) { self.capacity = capacity }

    deinit {
        state.withLock { state in
            for handle in state.idle { curl_easy_cleanup(handle.pointer) }
            state.idle = []
        }
    }

    /// An idle handle, or a new one; nil when libcurl cannot make one.
    func acquire() -> UnsafeMutableRawPointer? {
        if let handle = state.withLock({ $0.idle.popLast() }) { return handle.pointer }
        return curl_easy_init()
    }

    /// Back to the pool with its options cleared and its connections kept.
    func release(_ handle: UnsafeMutableRawPointer) {
        curl_easy_reset(handle)
        let returned = Handle(pointer: handle)
        let kept = state.withLock { state in
            guard state.idle.count < capacity else { return false }
            state.idle.append(returned)
            return true
        }
        if !kept { curl_easy_cleanup(handle) }
    }

    /// Counts the connections a request had to open (CURLINFO_NUM_CONNECTS).
    func opened(_ count: Int) {
        guard count > 0 else { return }
        state.withLock { $0.opened += count }
    }

    var connectionsOpened: Int { state.withLock { $0.opened } }
}
