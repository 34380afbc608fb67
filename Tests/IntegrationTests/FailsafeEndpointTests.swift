import DRAgent
import DRCore
import DRHTTP
import DRSystem
import Foundation
import Logging
import Testing

/// The agent API's one POST, over real HTTP: a failsafe request is answered by the node's
/// agent, anything else sent by POST is refused, and a malformed request changes nothing.
@Suite(.timeLimit(.minutes(1))) struct FailsafeEndpointTests {
    @Test func thePostIsAnsweredByTheAgentAndNothingElseIsAccepted() async throws {
        let port = try PortAllocator.freePort()
        let asked = Asked()
        let api = AgentAPI(
            node: "pg2", endpoint: APIEndpoint(host: "127.0.0.1", port: port), board: AgentStateBoard(), metrics: AgentMetrics(),
            staleAfter: .seconds(5), log: Logger(label: "test"),
            failsafe: { request in
                await asked.record(request)
                return FailsafeAnswer(node: "pg2", accepted: request.term == 7, reason: request.term == 7 ? nil : "stale term")
            })
        let server = Task { try await api.run() }
        defer { server.cancel() }
        let base = "http://127.0.0.1:\(port)"
        let client = HTTPClient()
        #expect(try await eventually(within: .seconds(10)) { (try? await client.send(HTTPRequest(url: "\(base)/health"))) != nil })

        let request = FailsafeRequest(cluster: "lab", leader: "pg1", term: 7, ttlMillis: 2000)
        let peers = HTTPFailsafePeers(config: try Self.config(port: port))
        let answer = try await peers.ask("pg2", request, timeout: .seconds(2))
        #expect(answer.node == "pg2" && answer.accepted && answer.nonce != nil, "\(answer)")
        var stale = request
        stale.term = 6
        #expect(try await peers.ask("pg2", stale, timeout: .seconds(2)).reason == "stale term")
        #expect(await asked.terms == [7, 6])

        func post(_ path: String, _ body: String) async throws -> Int {
            try await client.send(HTTPRequest(method: "POST", url: base + path, body: Array(body.utf8))).status
        }
        #expect(try await post("/failsafe", "{\"leader\": \"pg1\"}") == 400, "a request without its term is refused")
        #expect(try await post("/primary", "{}") == 405, "the rest of the API stays read-only")
        #expect(await asked.terms == [7, 6], "neither reached the agent")
    }

    /// With a failsafe secret: a leader holding it is heard; one without it, or with another,
    /// gets a refusal that says why (which its log shows), and the member's agent never sees
    /// the request, so no promise is made.
    @Test func withASecretOnlySignedRequestsReachTheAgent() async throws {
        let port = try PortAllocator.freePort()
        let asked = Asked()
        let api = AgentAPI(
            node: "pg2", endpoint: APIEndpoint(host: "127.0.0.1", port: port), board: AgentStateBoard(), metrics: AgentMetrics(),
            staleAfter: .seconds(5), log: Logger(label: "test"),
            failsafe: { request in
                await asked.record(request)
                return FailsafeAnswer(node: "pg2", accepted: true)
            }, authenticator: FailsafeAuthenticator(secret: "shared"))
        let server = Task { try await api.run() }
        defer { server.cancel() }
        let client = HTTPClient()
        #expect(try await eventually(within: .seconds(10)) { (try? await client.send(HTTPRequest(url: "http://127.0.0.1:\(port)/health"))) != nil })

        let config = try Self.config(port: port)
        let request = FailsafeRequest(cluster: "lab", leader: "pg1", term: 7, ttlMillis: 2000)
        let signed = HTTPFailsafePeers(config: config, authenticator: FailsafeAuthenticator(secret: "shared"))
        let confirmed = try await signed.ask("pg2", request, timeout: .seconds(2))
        #expect(confirmed.node == "pg2" && confirmed.accepted, "\(confirmed)")
        #expect(await asked.terms == [7])
        let heard = try #require(await asked.requests.first)
        let sentAt = try #require(heard.sentAtMillis)
        #expect(abs(sentAt - Int64(Date().timeIntervalSince1970 * 1000)) < 10_000, "the sending time travels in the signed body")
        #expect(heard.to == "pg2" && heard.nonce == confirmed.nonce && heard.nonce != nil, "bound to its recipient, answered to its nonce")

        // The same signed request sent again (captured on the wire): refused, never heard twice.
        var replayed = request
        (replayed.sentAtMillis, replayed.to, replayed.nonce) = (sentAt, "pg2", heard.nonce)
        let replayBody = Array(try JSONEncoder().encode(replayed))
        let replay = try await client.send(
            HTTPRequest(
                method: "POST", url: "http://127.0.0.1:\(port)/failsafe",
                headers: [(FailsafeAuthenticator.header, FailsafeAuthenticator(secret: "shared").signature(of: replayBody))], body: replayBody))
        #expect(replay.status == 401 && replay.text.contains("heard before"), "\(replay.status) \(replay.text)")

        let unsigned = try await HTTPFailsafePeers(config: config).ask("pg2", request, timeout: .seconds(2))
        #expect(!unsigned.accepted && unsigned.reason?.contains("not signed") == true, "\(unsigned)")
        let wrong = try await HTTPFailsafePeers(config: config, authenticator: FailsafeAuthenticator(secret: "guess")).ask("pg2", request, timeout: .seconds(2))
        #expect(!wrong.accepted && wrong.reason?.contains("does not match") == true, "\(wrong)")
        #expect(await asked.terms == [7], "neither reached the agent")
    }

    /// Something that answers "yes" at a member's address without the cluster's secret (an
    /// impostor, a man in the middle, an agent configured without it): the leader does not
    /// count it, so it cannot keep the leader writable without etcd while the real member,
    /// which promised nothing, may take the lapsed key.
    @Test func aConfirmationWithoutTheSecretIsNotCounted() async throws {
        let port = try PortAllocator.freePort()
        let impostor = AgentAPI(
            node: "pg2", endpoint: APIEndpoint(host: "127.0.0.1", port: port), board: AgentStateBoard(), metrics: AgentMetrics(),
            staleAfter: .seconds(5), log: Logger(label: "test"), failsafe: { _ in FailsafeAnswer(node: "pg2", accepted: true) })
        let server = Task { try await impostor.run() }
        defer { server.cancel() }
        let client = HTTPClient()
        #expect(try await eventually(within: .seconds(10)) { (try? await client.send(HTTPRequest(url: "http://127.0.0.1:\(port)/health"))) != nil })
        let leader = HTTPFailsafePeers(config: try Self.config(port: port), authenticator: FailsafeAuthenticator(secret: "shared"))
        await #expect(throws: FailsafePeerError.self, "an unsigned yes is no confirmation") {
            _ = try await leader.ask("pg2", FailsafeRequest(cluster: "lab", leader: "pg1", term: 7, ttlMillis: 2000), timeout: .seconds(2))
        }
    }

    static func config(port: Int) throws -> ClusterConfig {
        try ConfigLoader.load(
            yaml: """
                cluster: lab
                objectives: {rto: 30s, rpo: 5s}
                coordination: {endpoints: ["http://127.0.0.1:1"], lease_ttl: 2s}
                regions:
                  - name: region1
                    role: primary
                    priority: 100
                    nodes:
                      - {name: pg1, conninfo: "host=127.0.0.1 port=5432 user=postgres", data_dir: /nonexistent/pg1}
                  - name: region2
                    role: hot-standby
                    priority: 90
                    api: "127.0.0.1:\(port)"
                    nodes:
                      - {name: pg2, conninfo: "host=127.0.0.1 port=5433 user=postgres", data_dir: /nonexistent/pg2}
                """, file: "endpoint-test.yaml")
    }
}

private actor Asked {
    var requests: [FailsafeRequest] = []
    var terms: [Int64] { requests.map(\.term) }
    func record(_ request: FailsafeRequest) { requests.append(request) }
}
