import Testing

@testable import DRCoordination

/// How the keep-alive stream's answers read (`EtcdCoordinator.grants`): only an answer that
/// names a lease without a TTL says the lease is gone. An error in the stream (etcd between
/// leaders) or a lease left unanswered is a failed call, which the leader tries again, never
/// the loss of its lease, which would make it stop renewing and fence.
@Suite struct KeepAliveAnswerTests {
    static let path = "/v3/lease/keepalive"

    @Test func aLeaseAnsweredWithoutATTLIsGoneAndTheOtherIsRenewed() throws {
        let answers: [[String: Any]] = [["result": ["ID": "7", "TTL": "5"]], ["result": ["ID": "9"]]]
        #expect(try EtcdCoordinator.grants(answers, for: [7, 9], path: Self.path) == [7: .seconds(5)])
    }

    @Test func anErrorInTheStreamIsTheCallsNotALostLease() {
        let answers: [[String: Any]] = [["error": ["grpc_code": 14, "http_code": 503, "message": "etcdserver: no leader"]]]
        #expect {
            _ = try EtcdCoordinator.grants(answers, for: [7], path: Self.path)
        } throws: { error in
            guard case CoordinationError.server(_, _, 503, let message) = error else { return false }
            return message == "etcdserver: no leader"
        }
    }

    @Test func aLeaseLeftUnansweredIsNotReadAsExpired() {
        let answers: [[String: Any]] = [["result": ["ID": "7", "TTL": "5"]]]
        #expect {
            _ = try EtcdCoordinator.grants(answers, for: [7, 9], path: Self.path)
        } throws: { error in
            if case CoordinationError.malformed = error { return true }
            return false
        }
    }

    /// The gateway's side: a transient error inside the stream is thrown so the call moves
    /// on to the next member; any other message (an error that is not transient included)
    /// is handed on as it came.
    @Test func aTransientErrorInTheStreamMovesTheCallOn() throws {
        let electing = Array(#"{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader"}}"#.utf8) + [0x0A]
        #expect {
            _ = try EtcdGateway.messages(electing, endpoint: "http://e1", path: Self.path)
        } throws: { error in
            guard case CoordinationError.server("http://e1", _, 503, "etcdserver: no leader") = error else { return false }
            return true
        }
        let renewed = Array(#"{"result":{"ID":"7","TTL":"5"}}"#.utf8) + [0x0A, 0x0D, 0x0A] + Array(#"{"result":{"ID":"9","TTL":"5"}}"#.utf8)
        #expect(try EtcdGateway.messages(renewed, endpoint: "http://e1", path: Self.path).count == 2)
        let refused = Array(#"{"error":{"grpc_code":3,"http_code":400,"message":"etcdserver: invalid lease"}}"#.utf8)
        #expect(try EtcdGateway.messages(refused, endpoint: "http://e1", path: Self.path).count == 1)
    }
}
