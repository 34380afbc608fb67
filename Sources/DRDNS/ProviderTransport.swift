import DRCore
import DRHTTP

/// One provider's HTTP calls with the retry policy: backoff with jitter on 429, 5xx,
/// time-outs and refused connections, honouring `Retry-After`, until the deadline; any
/// other 4xx stops at once with the provider's own error message.
struct ProviderTransport: Sendable {
    let provider: String
    var client = HTTPClient()
    var schedule = RetrySchedule()
    /// Limit for a single attempt (the deadline may cut it shorter).
    var attemptTimeout: Duration = .seconds(10)
    /// Whether a non-2xx answer is worth retrying beyond the status code (Route 53 says
    /// "Throttling" with a 400).
    var retryableBody: @Sendable (HTTPResponse) -> Bool = { _ in false }
    /// The provider's error text from a non-2xx body.
    let errorMessage: @Sendable (HTTPResponse) -> String

    /// - Parameter check: for writes, asked before every attempt (see `DNSWriteCheck`).
    func send(
        _ request: HTTPRequest, operation: String, deadline: ContinuousClock.Instant, check: DNSWriteCheck? = nil,
        sign: @Sendable (HTTPRequest) -> HTTPRequest = { $0 }
    ) async throws -> HTTPResponse {
        let clock = ContinuousClock()
        var attempt = 0
        var lastProblem = "no attempt made"
        while true {
            let remaining = deadline - clock.now
            guard remaining > .milliseconds(50) else {
                throw DNSProviderError(.unavailable, provider: provider, operation: operation, message: lastProblem)
            }
            if let check, let refusal = await check() {
                throw DNSProviderError(.refused, provider: provider, operation: operation, message: refusal)
            }
            var timed = request
            timed.timeout = min(attemptTimeout, remaining)
            timed.connectTimeout = min(timed.connectTimeout, timed.timeout)
            var retryAfter: Duration?
            do {
                // Signed per attempt: SigV4 signatures carry the time.
                let response = try await client.send(sign(timed))
                switch ProviderOutcome.classify(status: response.status, retryAfterHeader: response.headers["retry-after"]) {
                case .success:
                    return response
                case .retry(let after):
                    retryAfter = after
                    lastProblem = "HTTP \(response.status): \(errorMessage(response))"
                case .stop where retryableBody(response):
                    lastProblem = "HTTP \(response.status): \(errorMessage(response))"
                case .stop:
                    throw DNSProviderError(.rejected(status: response.status), provider: provider, operation: operation, message: errorMessage(response))
                }
            } catch let error as HTTPError {
                lastProblem = error.message
            }
            guard
                let wait = schedule.delay(
                    afterAttempt: attempt, retryAfter: retryAfter, random: Double.random(in: 0..<1),
                    remaining: deadline - clock.now)
            else {
                throw DNSProviderError(.unavailable, provider: provider, operation: operation, message: "\(lastProblem) (after \(attempt + 1) attempts)")
            }
            try await Task.sleep(for: wait)
            attempt += 1
        }
    }
}
