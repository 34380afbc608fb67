import DRCore
import FlyingFox
import FlyingSocks
import Foundation
import Logging
import ServiceLifecycle

/// One node's HTTP API, for load balancers, monitoring and people: Patroni's health
/// endpoints (`/primary`, `/replica`, …, see `HealthEndpoints`), `/status` (JSON),
/// `/metrics` (Prometheus) and the status page `/` (see `StatusPageSource`). Read-only by design: every change goes through the CLI and etcd. The one
/// POST, `/failsafe`, changes nothing but a promise this agent keeps: a leader without etcd
/// asks to be confirmed under its term (see `FailsafeVote`); a forged one can only delay a
/// failover by a lease TTL, never start one, and with a failsafe secret it is refused
/// (`FailsafeAuthenticator`).
public struct AgentAPI: Service {
    let node: String
    let endpoint: APIEndpoint
    let board: AgentStateBoard
    let metrics: AgentMetrics
    /// A loop silent for this long is stalled: every endpoint answers 503.
    var staleAfter: Duration { live.map { Self.staleAfter($0.value) } ?? fixedStaleAfter }
    let fixedStaleAfter: Duration
    /// The running configuration, when reloads may change the health interval.
    var live: LiveConfig?
    let defaultLagLimit: UInt64
    let log: Logger
    /// The node's agent answering `POST /failsafe`; nil: 404.
    let failsafe: (@Sendable (FailsafeRequest) async -> FailsafeAnswer)?
    /// Checks each failsafe request's signature when the cluster has a failsafe secret.
    let authenticator: FailsafeAuthenticator?
    /// Logged when the reason changes, not for every request a sender repeats.
    let authenticationRefusals = LastReason()
    /// The nonces of signed failsafe requests heard lately: each is heard once.
    let heardNonces = HeardNonces()
    /// The status page; nil: `/` is 404.
    let page: StatusPageSource?

    public init(
        node: String, endpoint: APIEndpoint, board: AgentStateBoard, metrics: AgentMetrics, staleAfter: Duration,
        defaultLagLimit: UInt64 = 16 << 20, log: Logger, failsafe: (@Sendable (FailsafeRequest) async -> FailsafeAnswer)? = nil,
        authenticator: FailsafeAuthenticator? = nil, page: StatusPageSource? = nil
    ) {
        self.page = page
        self.failsafe = failsafe
        self.authenticator = authenticator
        self.log = log
        self.node = node
        self.endpoint = endpoint
        self.board = board
        self.metrics = metrics
        self.fixedStaleAfter = staleAfter
        self.defaultLagLimit = defaultLagLimit
    }

    /// Stale after three loops (each bounded by its time-outs): a stalled agent is not healthy.
    public static func staleAfter(_ config: ClusterConfig) -> Duration {
        config.health.interval * 3 + config.health.timeout * 2 + config.coordination.leaseTTL
    }

    public func run() async throws {
        let address: any SocketAddress =
            endpoint.host.contains(":")
            ? try sockaddr_in6.inet6(ip6: endpoint.host, port: UInt16(endpoint.port))
            : try sockaddr_in.inet(ip4: endpoint.host, port: UInt16(endpoint.port))
        let server = HTTPServer(address: address, timeout: 5, logger: .disabled)
        let handler = self
        await server.appendRoute("*") { request in
            if request.method == .POST, request.path == "/failsafe" { return await handler.answerFailsafe(request) }
            if request.method == .GET || request.method == .HEAD, let page = handler.page, let response = await page.answer(request.path) {
                return response
            }
            return handler.answer(request)
        }
        do {
            try await withGracefulShutdownHandler {
                try await server.run()
            } onGracefulShutdown: {
                // By now the node's loop has made its last decision (services stop in reverse
                // order). Connections kept alive by load balancers and scrapers are not waited
                // for: a service manager's restart must fit well inside the lease TTL.
                Task { await server.stop(timeout: 0.05) }
            }
        } catch {
            // Stopped on purpose: the cancelled connections are no failure.
            if Task.isShuttingDownGracefully { return }
            // Without its API the agent must still guard its node: report, and keep going.
            log.error("the HTTP API could not run; the agent carries on without it", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
            try? await gracefulShutdown()
        }
    }

    func answer(_ request: FlyingFox.HTTPRequest) -> FlyingFox.HTTPResponse {
        guard HealthEndpoints.methods.contains(request.method.rawValue) else {
            return Self.text(405, "read-only API: GET, HEAD and OPTIONS only; changes go through `drctl` and etcd\n")
        }
        if request.path == "/metrics" {
            return FlyingFox.HTTPResponse(
                statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: Data(metrics.exposition().utf8))
        }
        let query = Dictionary(request.query.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        var snapshot = board.snapshot(of: node)
        snapshot?.servedAtMillis = Int64(Date().timeIntervalSince1970 * 1000)
        guard
            let code = HealthEndpoints.status(
                path: request.path, query: query, snapshot: snapshot, now: board.now, staleAfter: staleAfter,
                defaultLagLimit: defaultLagLimit)
        else {
            return Self.text(404, "unknown path; endpoints: / \(HealthEndpoints.paths.map(\.path).joined(separator: " ")) /metrics\n")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = snapshot.flatMap { try? encoder.encode($0) } ?? Data(#"{"state":"unknown"}"#.utf8)
        return FlyingFox.HTTPResponse(
            statusCode: HTTPStatusCode(code, phrase: code == 200 ? "OK" : "Service Unavailable"),
            headers: [.contentType: "application/json"], body: body)
    }

    func answerFailsafe(_ request: FlyingFox.HTTPRequest) async -> FlyingFox.HTTPResponse {
        guard let failsafe else { return Self.text(404, "this agent answers no failsafe requests\n") }
        guard let body = try? await request.bodyData else { return Self.text(400, "the request's body could not be read\n") }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        if let authenticator,
            let why = authenticator.refusal(
                body: Array(body), signature: request.headers[HTTPHeader(FailsafeAuthenticator.header)], member: node, nowMillis: now,
                seen: { heardNonces.insert($0, atMillis: now) })
        {
            // Answered as a refusal, so the leader logs why this member did not confirm it.
            if authenticationRefusals.changed(to: why) {
                log.warning("refused an unauthenticated failsafe request", metadata: ["reason": "\(why)"])
            }
            return signed(FailsafeAnswer(node: node, accepted: false, reason: why), status: HTTPStatusCode(401, phrase: "Unauthorized"))
        }
        guard let asked = try? JSONDecoder().decode(FailsafeRequest.self, from: body) else {
            return Self.text(400, "expected a JSON failsafe request: {\"cluster\", \"leader\", \"term\", \"ttl_ms\"}\n")
        }
        var answer = await failsafe(asked)
        answer.nonce = asked.nonce
        return signed(answer, status: .ok)
    }

    /// The answer as JSON, signed over its exact bytes when the cluster has a secret: the
    /// leader counts no confirmation it cannot verify.
    func signed(_ answer: FailsafeAnswer, status: HTTPStatusCode) -> FlyingFox.HTTPResponse {
        let body = (try? JSONEncoder().encode(answer)) ?? Data()
        var headers: [HTTPHeader: String] = [.contentType: "application/json"]
        if let authenticator { headers[HTTPHeader(FailsafeAuthenticator.header)] = authenticator.signature(of: Array(body)) }
        return FlyingFox.HTTPResponse(statusCode: status, headers: headers, body: body)
    }

    static func text(_ code: Int, _ text: String) -> FlyingFox.HTTPResponse {
        let phrases = [400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"]
        return FlyingFox.HTTPResponse(
            statusCode: HTTPStatusCode(code, phrase: phrases[code] ?? "Error"),
            headers: [.contentType: "text/plain"], body: Data(text.utf8))
    }
}

/// The last reason logged, so that a repeated refusal is logged once.
final class LastReason: @unchecked Sendable {
    private let lock = NSLock()
    private var last: String?

    /// Whether `reason` differs from the last one (which it then becomes).
    func changed(to reason: String) -> Bool {
        lock.withLock {
            defer { last = reason }
            return last != reason
        }
    }
}

/// The nonces of recent failsafe requests, kept as long as a request can be fresh
/// (`FailsafeAuthenticator.maxAge`), so that a replay within that window is refused.
final class HeardNonces: @unchecked Sendable {
    private let lock = NSLock()
    private var heard: [String: Int64] = [:]

    /// Whether `nonce` was heard before; remembers it either way.
    func insert(_ nonce: String, atMillis now: Int64) -> Bool {
        lock.withLock {
            let horizon = now - FailsafeAuthenticator.maxAge.milliseconds
            if heard.count > 256 { heard = heard.filter { $0.value >= horizon } }
            defer { heard[nonce] = now }
            return heard[nonce].map { $0 >= horizon } ?? false
        }
    }
}
