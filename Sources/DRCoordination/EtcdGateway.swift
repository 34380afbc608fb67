import DRCore
import DRHTTP
import Foundation
import Synchronization

/// etcd v3's JSON gateway (`POST /v3/...`): endpoint failover, TLS, and user/password
/// authentication. Knows nothing about drctl's keys; `EtcdCoordinator` does.
public final class EtcdGateway: Sendable {
    public struct Credentials: Sendable {
        public var username: String
        public var password: String
        public init(username: String, password: String) { self.username = username; self.password = password }
    }

    let endpoints: [String]
    let tls: HTTPTLSFiles?
    let credentials: Credentials?
    let timeout: Duration
    /// How long one call may take over all its tries (see `EtcdAttemptBudget`).
    let budget: Duration
    let attempts: EtcdAttemptBudget
    /// Local address to send from, so a region's etcd traffic can be told apart (and cut,
    /// in the lab) from everything else on a shared host.
    let sourceAddress: String?
    private let http = HTTPClient()
    /// TCP connections opened to etcd so far: one per member in steady state (keep-alive).
    public var connectionsOpened: Int { http.connectionsOpened }
    private let state = Mutex(State())

    private struct State {
        /// Index of the endpoint that answered last: tried first next time.
        var preferred = 0
        var token: String?
    }

    /// - Parameters:
    ///   - timeout: how long a connection may take; one try takes at most twice that.
    ///   - budget: how long one call may take over all its tries; three tries' worth unless given.
    public init(
        endpoints: [String], tls: HTTPTLSFiles? = nil, credentials: Credentials? = nil, timeout: Duration = .seconds(2),
        budget: Duration? = nil, sourceAddress: String? = nil
    ) {
        self.budget = budget ?? timeout * 6
        self.attempts = EtcdAttemptBudget(attemptLimit: timeout * 2)
        self.sourceAddress = sourceAddress
        self.endpoints = endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.tls = tls
        self.credentials = credentials
        self.timeout = timeout
    }

    /// The endpoint the next call tries first (the one that answered last, or the one after
    /// the last that failed).
    public var preferredEndpoint: String { endpoints[state.withLock { $0.preferred }] }

    /// POSTs `body` to `path` (e.g. `/v3/kv/range`) on the first endpoint that answers,
    /// starting with the one that answered last. Connection failures, time-outs and etcd's
    /// transient answers (a member electing a leader, overloaded) move on to the next
    /// endpoint; any other answer from etcd, even an error, does not. All tries together
    /// take at most `limit` (the gateway's budget unless shorter): a member that holds
    /// requests costs a share of it, not the call (see `EtcdAttemptBudget`).
    ///
    /// A member that lost its leader holds a request for about an election time-out and then
    /// answers 503 "leader changed": failing the call there would cost a leader a whole tick
    /// of its lease for an election the other members finish in half a second (and when
    /// every member is still electing, the call goes round again: see `firstAnswer`). Like a
    /// time-out, "request timed out" leaves a write's fate unknown; every write drctl makes is
    /// a compare-and-swap or a put of a fixed key, so sending it again is safe.
    func call(_ path: String, _ body: [String: Any], within limit: Duration? = nil) async throws -> [String: Any] {
        let (endpoint, body) = try await firstAnswer(path, try JSONSerialization.data(withJSONObject: body), within: limit)
        return try Self.object(body, endpoint: endpoint, path: path)
    }

    /// POSTs `bodies` as one stream of messages, one JSON object per line, to a streaming
    /// method (`/v3/lease/keepalive`), on the terms of `call`; returns the messages etcd
    /// answered with, one per line (the gateway wraps each in `result`, or sends `error`).
    func callStreaming(_ path: String, _ bodies: [[String: Any]], within limit: Duration? = nil) async throws -> [[String: Any]] {
        var payload = Data()
        for body in bodies {
            payload.append(try JSONSerialization.data(withJSONObject: body))
            payload.append(0x0A)
        }
        var messages: [[String: Any]] = []
        // A stream's error comes after its 200, as a line: a transient one moves the call on
        // to the next member, as a 503 status would.
        _ = try await firstAnswer(path, payload, within: limit) { endpoint, body in
            messages = try Self.messages(body, endpoint: endpoint, path: path)
        }
        return messages
    }

    /// A streaming call's answer, one JSON object per line; throws the first transient
    /// error among them (`isTransient`), so that the call is tried on the next member.
    static func messages(_ body: [UInt8], endpoint: String, path: String) throws -> [[String: Any]] {
        let lines = body.split(separator: 0x0A).filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0D } }
        let messages = try lines.map { try object(Array($0), endpoint: endpoint, path: path) }
        for message in messages {
            guard let error = message["error"] as? [String: Any] else { continue }
            let status = EtcdJSON.int64(error["http_code"]).map(Int.init) ?? 500
            let text = error["message"] as? String ?? "\(error)"
            if isTransient(status: status, message: text) {
                throw CoordinationError.server(endpoint: endpoint, path: path, status: status, message: text)
            }
        }
        return messages
    }

    /// The body of the first endpoint's 200 answer (see `call` for the order and the budget).
    /// `accept` may refuse a 200 answer by throwing a transient server error (an error inside
    /// a stream): the call then moves on like after a 503.
    ///
    /// When a member answered "not now" (an election, see `isTransient`) and none answered
    /// yes, the call goes round again after a short pause, while its time lasts: every
    /// follower of a raft leader that died is electing at once, and the election ends within
    /// about a second. When no member answered at all, one round is the end: that is an
    /// outage, and the agent's failsafe must see it now, not after the whole budget.
    private func firstAnswer(
        _ path: String, _ payload: Data, within limit: Duration?, accept: (String, [UInt8]) throws -> Void = { _, _ in }
    ) async throws -> (endpoint: String, body: [UInt8]) {
        let allowed = min(limit ?? budget, budget)
        let started = ContinuousClock.now
        let deadline = started + allowed
        var pause = EtcdAttemptBudget.firstPause
        var round = 1
        while true {
            var failures: [String] = []
            var deferred = false
            let start = state.withLock { $0.preferred }
            for offset in 0..<endpoints.count {
                let index = (start + offset) % endpoints.count
                let endpoint = endpoints[index]
                guard let attempt = attempts.nextAttempt(remaining: deadline - ContinuousClock.now, endpointsLeft: endpoints.count - offset) else {
                    failures.append("\(endpoint): not tried, the call's \(DurationText.format(allowed)) were spent")
                    break
                }
                do {
                    let body = try await exchange(endpoint, path, payload, attempt: attempt, retryAuth: true)
                    try accept(endpoint, body)
                    state.withLock { $0.preferred = index }
                    return (endpoint, body)
                } catch let error as HTTPError {
                    failures.append("\(endpoint): \(error.message)")
                } catch CoordinationError.server(_, _, let status, let message) where Self.isTransient(status: status, message: message) {
                    failures.append("\(endpoint): \(status) \(message)")
                    deferred = true
                }
                // The next call starts elsewhere: a member that failed once is likely to again,
                // and the lease renewal that may follow this call must not wait on it first.
                state.withLock { if $0.preferred == index { $0.preferred = (index + 1) % endpoints.count } }
            }
            guard deferred, deadline - ContinuousClock.now > pause + EtcdAttemptBudget.shortestTry else {
                if round > 1 {
                    failures.append("each member asked \(round) times over \(DurationText.format(ContinuousClock.now - started))")
                }
                throw CoordinationError.unavailable(failures)
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, EtcdAttemptBudget.longestPause)
            round += 1
        }
    }

    static func object(_ body: [UInt8], endpoint: String, path: String) throws -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw CoordinationError.malformed(endpoint: endpoint, path: path, detail: "not a JSON object: \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        return object
    }

    /// One request to one member, `endpoint` (which need not be among the configured ones:
    /// a member's advertised client URL), within the gateway's budget: for requests only
    /// that member may answer (etcd's MoveLeader goes to its leader).
    func call(_ path: String, _ body: [String: Any], at endpoint: String) async throws -> [String: Any] {
        let answer = try await exchange(endpoint, path, try JSONSerialization.data(withJSONObject: body), attempt: budget, retryAuth: true)
        return try Self.object(answer, endpoint: endpoint, path: path)
    }

    /// etcd's answers that say "not now, maybe elsewhere": the member has no leader or is
    /// between leaders, is overloaded, or is shutting down (etcdserver's ErrNoLeader,
    /// ErrLeaderChanged, ErrTimeout*, ErrTooManyRequests, ErrStopped, ErrUnhealthy). The
    /// gateway maps them to 503 (gRPC Unavailable) or 504; the message is checked too because
    /// a proxy in front of etcd may change the status.
    static func isTransient(status: Int, message: String) -> Bool {
        if status == 503 || status == 504 { return true }
        let transient = [
            "etcdserver: no leader", "etcdserver: leader changed", "etcdserver: request timed out",
            "etcdserver: too many requests", "etcdserver: server stopped", "etcdserver: unhealthy cluster",
        ]
        return transient.contains { message.contains($0) }
    }

    /// One request to one member: the body of its 200 answer, or its error thrown.
    private func exchange(_ endpoint: String, _ path: String, _ payload: Data, attempt: Duration, retryAuth: Bool) async throws -> [UInt8] {
        var headers = [(name: "Content-Type", value: "application/json")]
        if credentials != nil {
            headers.append((name: "Authorization", value: try await token(endpoint, attempt: attempt)))
        }
        let response = try await http.send(
            HTTPRequest(
                method: "POST", url: endpoint + path, headers: headers, body: Array(payload),
                connectTimeout: min(timeout, attempt), timeout: attempt, tls: tls, sourceInterface: sourceAddress))
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        guard response.status == 200 else {
            let message = object?["message"] as? String ?? object?["error"] as? String ?? response.text
            if retryAuth, credentials != nil, message.contains("invalid auth token") {
                state.withLock { $0.token = nil }
                return try await exchange(endpoint, path, payload, attempt: attempt, retryAuth: false)
            }
            throw CoordinationError.server(endpoint: endpoint, path: path, status: response.status, message: message)
        }
        return response.body
    }

    /// Keeps a watch (`/v3/watch`) open on `endpoint` and hands each message (one JSON
    /// object per line) to `message`, until `keepGoing` says stop or `lifetime` ends; throws
    /// when it could not be opened or broke. One connection for the stream's whole life.
    func stream(
        _ request: [String: Any], on endpoint: String, lifetime: Duration, keepGoing: @escaping @Sendable () -> Bool,
        message: @escaping @Sendable ([String: Any]) -> Void
    ) async throws {
        let payload = try JSONSerialization.data(withJSONObject: ["create_request": request])
        var headers = [(name: "Content-Type", value: "application/json")]
        if credentials != nil { headers.append((name: "Authorization", value: try await token(endpoint, attempt: timeout * 2))) }
        var http = HTTPRequest(
            method: "POST", url: endpoint + "/v3/watch", headers: headers, body: Array(payload), connectTimeout: timeout, timeout: lifetime, tls: tls,
            sourceInterface: sourceAddress)
        let pending = Mutex<[UInt8]>([])
        http.keepGoing = keepGoing
        http.chunk = { bytes in
            let lines: [[UInt8]] = pending.withLock { buffer in
                buffer.append(contentsOf: bytes)
                var lines: [[UInt8]] = []
                while let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(Array(buffer[..<end]))
                    buffer.removeSubrange(...end)
                }
                return lines
            }
            for line in lines where !line.isEmpty {
                if let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] { message(object) }
            }
        }
        let response = try await self.http.send(http)
        guard response.status == 200 else {
            throw CoordinationError.server(endpoint: endpoint, path: "/v3/watch", status: response.status, message: "the watch was refused")
        }
    }

    private func token(_ endpoint: String, attempt: Duration) async throws -> String {
        if let token = state.withLock({ $0.token }) { return token }
        guard let credentials else { return "" }
        let body = try JSONSerialization.data(withJSONObject: ["name": credentials.username, "password": credentials.password])
        let response = try await http.send(
            HTTPRequest(
                method: "POST", url: endpoint + "/v3/auth/authenticate", headers: [(name: "Content-Type", value: "application/json")],
                body: Array(body), connectTimeout: min(timeout, attempt), timeout: attempt, tls: tls, sourceInterface: sourceAddress))
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        guard response.status == 200, let token = object?["token"] as? String else {
            throw CoordinationError.authentication(object?["message"] as? String ?? "HTTP \(response.status)")
        }
        state.withLock { $0.token = token }
        return token
    }
}

/// etcd's JSON encodings: keys and values are base64, int64 fields are decimal strings.
enum EtcdJSON {
    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    static func decode(_ base64: Any?) -> String? {
        guard let text = base64 as? String, let data = Data(base64Encoded: text) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func int64(_ value: Any?) -> Int64? {
        if let text = value as? String { return Int64(text) }
        if let number = value as? NSNumber { return number.int64Value }
        return nil
    }

    /// The range end that selects every key starting with `prefix`.
    static func prefixEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF { bytes[bytes.count - 1] = last + 1; return Data(bytes).base64EncodedString() }
            bytes.removeLast()
        }
        return Data([0]).base64EncodedString()
    }
}
