import DRCore
import DRHTTP
import Foundation

/// How a leader without etcd reaches the other members' agents to be confirmed
/// (`POST /failsafe` on their HTTP API). Tests connect in-process agents instead.
public protocol FailsafePeers: Sendable {
    /// `member`'s answer to `request`; throws when it cannot be reached within `timeout`.
    func ask(_ member: String, _ request: FailsafeRequest, timeout: Duration) async throws -> FailsafeAnswer
}

/// The members' agent APIs at the endpoints the configuration gives each node.
public struct HTTPFailsafePeers: FailsafePeers {
    let config: ClusterConfig
    /// Sent from this address, as etcd requests are (so a partition cuts both alike).
    let sourceAddress: String?
    /// Signs each request when the cluster has a failsafe secret.
    let authenticator: FailsafeAuthenticator?
    let client = HTTPClient()

    public init(config: ClusterConfig, sourceAddress: String? = nil, authenticator: FailsafeAuthenticator? = nil) {
        self.config = config
        self.sourceAddress = sourceAddress
        self.authenticator = authenticator
    }

    public func ask(_ member: String, _ request: FailsafeRequest, timeout: Duration) async throws -> FailsafeAnswer {
        guard let endpoint = config.apiEndpoint(of: member) else { throw FailsafePeerError.unknownMember(member) }
        var request = request
        request.sentAtMillis = Int64(Date().timeIntervalSince1970 * 1000)
        request.to = member
        let nonce = FailsafeAuthenticator.nonce()
        request.nonce = nonce
        let body = Array(try JSONEncoder().encode(request))
        var headers = [("Content-Type", "application/json")]
        if let authenticator { headers.append((FailsafeAuthenticator.header, authenticator.signature(of: body))) }
        let response = try await client.send(
            HTTPRequest(
                method: "POST", url: "\(endpoint.url)/failsafe", headers: headers, body: body, connectTimeout: timeout, timeout: timeout,
                sourceInterface: sourceAddress))
        guard let answer = try? JSONDecoder().decode(FailsafeAnswer.self, from: Data(response.body)) else {
            // An agent of a version without failsafe answers 405 or 404: not a confirmation.
            throw FailsafePeerError.unexpected(member: member, status: response.status, body: String(response.text.prefix(200)))
        }
        // A refusal counts as no confirmation anyway: only a "yes" must prove where it came from.
        if answer.accepted, let authenticator,
            let why = authenticator.answerRefusal(
                answer, body: response.body, signature: response.headers[FailsafeAuthenticator.header.lowercased()], member: member, nonce: nonce)
        {
            throw FailsafePeerError.unauthenticated(member: member, detail: why)
        }
        return answer
    }
}

public enum FailsafePeerError: Error, CustomStringConvertible {
    case unknownMember(String)
    case unexpected(member: String, status: Int, body: String)
    case unauthenticated(member: String, detail: String)

    public var description: String {
        switch self {
        case .unknownMember(let member): "\(member) is not a node of this configuration: its agent API is unknown here"
        case let .unexpected(member, status, body): "\(member)'s agent answered \(status) without a failsafe answer: \(body)"
        case let .unauthenticated(_, detail): detail
        }
    }
}

extension ClusterConfig {
    /// The HTTP API endpoint of `node`'s agent.
    public func apiEndpoint(of node: String) -> APIEndpoint? {
        for region in regions {
            if let index = region.nodes.firstIndex(where: { $0.name == node }) { return region.apiEndpoint(forNodeAt: index) }
        }
        return nil
    }
}
