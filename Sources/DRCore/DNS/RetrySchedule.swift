/// When to try a provider call again: exponential backoff with jitter, the server's
/// `Retry-After` honoured, and nothing past the deadline. Pure: the shell supplies the
/// random number and the clock.
public struct RetrySchedule: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(200), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 0), or nil when waiting
    /// would pass `remaining`. "Equal jitter": half the backoff fixed, half random (`random`
    /// in 0..<1), so retries from several agents spread out but never collapse to zero.
    /// A server's `Retry-After` wins when it is longer.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil, random: Double, remaining: Duration) -> Duration? {
        let exponent = min(attempt, 20)
        let backoff = min(maximum, initial * (1 << exponent))
        let jittered = backoff / 2 + backoff / 2 * max(0, min(random, 1))
        let wait = max(jittered, retryAfter ?? .zero)
        return wait < remaining ? wait : nil
    }
}

/// What a provider's answer means for a retry.
public enum ProviderOutcome: Sendable, Equatable {
    case success
    /// Try again later (429, 5xx, time-out, refused connection).
    case retry(after: Duration?)
    /// A request the provider refused (4xx other than 429): retrying cannot help.
    case stop

    public static func classify(status: Int, retryAfterHeader: String?) -> ProviderOutcome {
        switch status {
        case 200..<300: .success
        case 429: .retry(after: retryAfterHeader.flatMap(parseRetryAfter))
        case 500..<600: .retry(after: retryAfterHeader.flatMap(parseRetryAfter))
        default: .stop
        }
    }

    /// `Retry-After` in delta-seconds (the HTTP-date form is not used by these providers).
    static func parseRetryAfter(_ text: String) -> Duration? {
        Int(text.trimming(" \t")).map { .seconds(max(0, min($0, 3600))) }
    }
}
