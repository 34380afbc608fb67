import Testing

@testable import DRAgent

/// Nothing the agent waits on holds up its exit: a preflight pass in flight, a loop's wait
/// for its postmaster or for the leader key is abandoned when the task is cancelled
/// (SIGTERM), and awaited otherwise.
@Suite struct CancellableWaitTests {
    @Test(.timeLimit(.minutes(1))) func aPassInFlightDoesNotHoldUpCancellation() async {
        let endless = Task<Void, Never> { try? await Task.sleep(for: .seconds(3600)) }
        let waiter = Task { await CancellableWait.until(endless) }
        waiter.cancel()
        await waiter.value  // returns although the pass runs on
        #expect(!endless.isCancelled)
        endless.cancel()
    }

    @Test(.timeLimit(.minutes(1))) func aFinishedPassIsAwaited() async {
        let finished = Task<Void, Never> {}
        await CancellableWait.until(finished)
        await finished.value
        #expect(finished.isCancelled == false)
    }

    @Test(.timeLimit(.minutes(1))) func aWaitGivesItsAnswerOrFalseOnceCancelled() async {
        #expect(await CancellableWait.run { true })
        #expect(await CancellableWait.run { false } == false)
        let gate = AsyncStream<Void>.makeStream()
        let waiter = Task {
            await CancellableWait.run {
                for await _ in gate.stream {}  // never ends until finished below
                return true
            }
        }
        waiter.cancel()
        #expect(await waiter.value == false, "cancelled: false at once, the wait still running")
        gate.continuation.finish()
    }
}
