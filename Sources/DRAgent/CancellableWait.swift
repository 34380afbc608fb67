import Foundation

/// A wait that ends when the waiting task is cancelled, even though the wait itself cannot
/// be interrupted (a pidfd poll on its own thread, an etcd watch inside libcurl). A service
/// manager's SIGTERM cancels the agent's loop in the middle of such a wait; the stopping
/// agent must make its last decision and exit at once, well inside the lease TTL, not at the
/// end of the interval. The abandoned wait finishes by itself within its own limit.
enum CancellableWait {
    /// `wait`'s answer, or false as soon as the current task is cancelled.
    static func run(_ wait: @escaping @Sendable () async -> Bool) async -> Bool {
        let answer = OneAnswer()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                answer.attach(continuation)
                Task { answer.give(await wait()) }
            }
        } onCancel: {
            answer.give(false)
        }
    }

    /// Waits for `work` to finish, or only until the current task is cancelled.
    static func until(_ work: Task<Void, Never>) async {
        _ = await run {
            await work.value
            return true
        }
    }

    /// Resumes its continuation exactly once, with the first answer given, whichever comes
    /// first: the continuation, or an answer (a cancellation can arrive before the wait starts).
    private final class OneAnswer: @unchecked Sendable {
        private let lock = NSLock()
        private var continuation: CheckedContinuation<Bool, Never>?
        private var answer: Bool?
        private var resumed = false

        func attach(_ continuation: CheckedContinuation<Bool, Never>) {
            let early: Bool? = lock.withLock {
                if let answer { resumed = true; return answer }
                self.continuation = continuation
                return nil
            }
            if let early { continuation.resume(returning: early) }
        }

        func give(_ value: Bool) {
            let waiting: CheckedContinuation<Bool, Never>? = lock.withLock {
                guard !resumed, answer == nil else { return nil }
                answer = value
                guard let continuation else { return nil }
                resumed = true
                self.continuation = nil
                return continuation
            }
            waiting?.resume(returning: value)
        }
    }
}
