/// An HTTP request as drctl sends it to etcd, DNS providers and health endpoints.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Header names and values in order; names are sent as given.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Limit on establishing the connection (TCP and TLS).
    public var connectTimeout: Duration
    /// Limit on the whole exchange, connection included.
    public var timeout: Duration
    public var tls: HTTPTLSFiles?
    /// Local interface or address to send from (libcurl's CURLOPT_INTERFACE).
    public var sourceInterface: String?
    /// For streamed answers (etcd's watch): the exchange ends as soon as the body received
    /// so far satisfies this, and that partial body is the response.
    public var complete: (@Sendable ([UInt8]) -> Bool)? = nil
    /// For long-lived streams: each piece of the body as it arrives, which is then not
    /// kept (the response's body stays empty).
    public var chunk: (@Sendable ([UInt8]) -> Void)? = nil
    /// Asked about once a second, also while nothing arrives: false ends the exchange (a
    /// stream whose reader moved on), and the response is what arrived until then.
    public var keepGoing: (@Sendable () -> Bool)? = nil

    public init(
        method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        connectTimeout: Duration = .seconds(2), timeout: Duration = .seconds(5),
        tls: HTTPTLSFiles? = nil, sourceInterface: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.tls = tls
        self.sourceInterface = sourceInterface
    }
}

/// Client TLS material, as file paths (libcurl reads them itself).
public struct HTTPTLSFiles: Sendable, Equatable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased; a repeated header keeps its last value.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A request that got no HTTP response at all. (A response with any status is not an
/// error at this level: callers decide what 4xx and 5xx mean.)
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The connect or total time limit passed (libcurl error 28).
        case timeout
        /// Nothing accepted the connection, or the name did not resolve.
        case connection
        /// The connection dropped during the exchange: nothing came back, or a body came
        /// back short (a reset mid-transfer). The request may or may not have been carried out.
        case interrupted
        /// TLS, protocol or local failures.
        case transport
    }

    public var kind: Kind
    public var method: String
    public var url: String
    /// libcurl's error code and message, for the log.
    public var code: Int
    public var message: String

    public var description: String {
        "\(method) \(url): \(message) (curl error \(code))"
    }
}
