import DRCore

/// A DNS provider's API as drctl uses it: read one record set, and replace record sets.
/// Implementations never log or print their credentials, and their errors never carry them.
public protocol DNSProvider: Sendable {
    /// The provider's name in the configuration.
    var name: String { get }

    /// The record set of `name`/`type` as the provider holds it; nil when there is none.
    func read(name: String, type: DNSRecordType, deadline: ContinuousClock.Instant) async throws -> DNSRecordSet?

    /// Creates or replaces every set in `sets`, in one API call where the API allows it.
    /// Returns once the provider has accepted (and, where it reports it, applied) them.
    /// `check` is asked right before every write attempt — the first and each retry — so a
    /// caller deposed meanwhile (a stale leader term) never has a late retry land.
    func upsert(_ sets: [DNSRecordSet], comment: String, deadline: ContinuousClock.Instant, check: @escaping DNSWriteCheck) async throws

    /// What the provider says is wrong with the credentials, without changing anything (nil:
    /// nothing, or the provider has no such check — then a read is all that can be tried).
    func credentialProblem(deadline: ContinuousClock.Instant) async throws -> String?
}

extension DNSProvider {
    public func credentialProblem(deadline: ContinuousClock.Instant) async throws -> String? { nil }
}

/// Asked right before each write attempt: nil lets it go, a reason refuses it (thrown as
/// `DNSProviderError` of kind `.refused`, nothing written).
public typealias DNSWriteCheck = @Sendable () async -> String?

extension DNSProvider {
    /// An upsert nobody else may have to refuse (tests, a forced manual switch).
    public func upsert(_ sets: [DNSRecordSet], comment: String, deadline: ContinuousClock.Instant) async throws {
        try await upsert(sets, comment: comment, deadline: deadline, check: { nil })
    }
}

/// Why a provider call failed, with what the operator needs: which provider and call,
/// what the provider said, and whether waiting could have helped.
public struct DNSProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The provider refused the request (4xx other than 429): fix the request or the
        /// credentials; retrying cannot help.
        case rejected(status: Int)
        /// Still failing (429, 5xx, time-outs, refused connections) when the deadline came.
        case unavailable
        /// An answer drctl cannot read (not the JSON/XML the API documents).
        case malformed
        /// Missing credentials or an impossible request, found before any call.
        case configuration
        /// Not written: the caller's write check refused the attempt (e.g. a stale term).
        case refused
    }

    public var kind: Kind
    public var provider: String
    /// The call, e.g. `PATCH /api/v1/servers/localhost/zones/lab.drctl.test.`.
    public var operation: String
    public var message: String

    public init(_ kind: Kind, provider: String, operation: String, message: String) {
        self.kind = kind
        self.provider = provider
        self.operation = operation
        self.message = message
    }

    public var description: String {
        let what =
            switch kind {
            case .rejected(let status): "refused (HTTP \(status))"
            case .unavailable: "unavailable until the deadline"
            case .malformed: "answered with something unreadable"
            case .configuration: "cannot be called"
            case .refused: "not written"
            }
        let next =
            switch kind {
            case .rejected(let status) where status == 401 || status == 403: "check the provider's credentials and their permissions"
            case .rejected: "check the record and zone settings in the config"
            case .unavailable: "the provider may be down; `drctl dns switch` retries by hand"
            case .malformed: "check the provider's url in the config"
            case .configuration: "fix the config"
            case .refused: "another agent leads now; it points the record"
            }
        return "DNS provider \(provider): \(operation) \(what): \(message); \(next)"
    }
}
