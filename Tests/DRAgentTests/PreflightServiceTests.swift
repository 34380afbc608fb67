import Testing

@testable import DRAgent

/// The agent's preflight never holds up its exit: a pass in flight is abandoned when the
/// service is cancelled (SIGTERM), and awaited otherwise.
@Suite struct PreflightServiceTests {
    @Test(.timeLimit(.minutes(1))) func aPassInFlightDoesNotHoldUpCancellation() async {
        let endless = Task<Void, Never> { try? await Task.sleep(for: .seconds(3600)) }
        let waiter = Task { await PreflightService.unlessCancelled(endless) }
        waiter.cancel()
        await waiter.value  // returns although the pass runs on
        #expect(!endless.isCancelled)
        endless.cancel()
    }

    @Test(.timeLimit(.minutes(1))) func aFinishedPassIsAwaited() async {
        let finished = Task<Void, Never> {}
        await PreflightService.unlessCancelled(finished)
        await finished.value
        #expect(finished.isCancelled == false)
    }
}
