import CCurl
import DRCore
import Dispatch

/// HTTP over libcurl's easy interface.
///
/// `curl_easy_perform` blocks, so each request runs on a Dispatch queue and is bridged
/// to async with a continuation: Swift's cooperative pool never waits on the network.
/// A client keeps its idle easy handles (`EasyHandlePool`), and with them their open
/// connections: an agent's etcd calls reuse one keep-alive connection per member instead of
/// a new TCP (and TLS) connection per request. A handle serves one request at a time.
public struct HTTPClient: Sendable {
    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    private let queue = DispatchQueue(label: "drctl.http", attributes: .concurrent)
    private let handles = EasyHandlePool()

    public init() {}

    /// Connections this client has opened so far (requests that reused one add nothing).
    public var connectionsOpened: Int { handles.connectionsOpened }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        _ = Self.initialized
        return try await withCheckedThrowingContinuation { [handles] continuation in
            queue.async {
                continuation.resume(with: Result { () throws(HTTPError) in try Self.perform(request, handles: handles) })
            }
        }
    }

    private static func perform(_ request: HTTPRequest, handles: EasyHandlePool) throws(HTTPError) -> HTTPResponse {
        guard let handle = handles.acquire() else {
            throw HTTPError(kind: .transport, method: request.method, url: request.url, code: -1, message: "curl_easy_init failed")
        }
        defer { handles.release(handle) }
        let sink = ResponseSink(complete: request.complete, chunk: request.chunk, keepGoing: request.keepGoing)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        drctl_curl_setopt_string(handle, CURLOPT_URL, request.url)
        drctl_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        drctl_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout.milliseconds))
        drctl_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(request.timeout.milliseconds))
        drctl_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        drctl_curl_setopt_write_callback(
            handle,
            { data, size, count, context in
                guard let data, let context else { return 0 }
                let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
                if let chunk = sink.chunk {
                    chunk(Array(UnsafeRawBufferPointer(start: data, count: size * count)))
                    return size * count
                }
                sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
                if let complete = sink.complete, complete(sink.body) {
                    sink.completedEarly = true
                    return 0  // ends the transfer (CURLE_WRITE_ERROR, taken as success below)
                }
                return size * count
            })
        drctl_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        drctl_curl_setopt_header_callback(
            handle,
            { data, size, count, context in
                guard let data, let context else { return 0 }
                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
                Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue().header(line)
                return size * count
            })
        drctl_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        if request.keepGoing != nil {
            drctl_curl_setopt_xferinfo(
                handle,
                { context, _, _, _, _ in
                    guard let context else { return 0 }
                    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
                    guard sink.keepGoing?() == false else { return 0 }
                    sink.completedEarly = true
                    return 1  // CURLE_ABORTED_BY_CALLBACK, taken as success below
                }, context)
        }

        if let body = request.body {
            drctl_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
            body.withUnsafeBufferPointer { buffer in
                _ = drctl_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!))
            }
        }
        if request.method == "HEAD" {
            drctl_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        } else if request.method != (request.body == nil ? "GET" : "POST") {
            drctl_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        // An empty Expect: stops libcurl waiting for "100 Continue" before sending a body.
        for (name, value) in request.headers + [("Expect", "")] {
            headerList = curl_slist_append(headerList, value.isEmpty ? "\(name):" : "\(name): \(value)")
        }
        drctl_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        if let tls = request.tls {
            if let ca = tls.caFile { drctl_curl_setopt_string(handle, CURLOPT_CAINFO, ca) }
            if let cert = tls.certFile { drctl_curl_setopt_string(handle, CURLOPT_SSLCERT, cert) }
            if let key = tls.keyFile { drctl_curl_setopt_string(handle, CURLOPT_SSLKEY, key) }
        }
        if let interface = request.sourceInterface { drctl_curl_setopt_string(handle, CURLOPT_INTERFACE, interface) }

        let code = curl_easy_perform(handle)
        guard code == CURLE_OK || ((code == CURLE_WRITE_ERROR || code == CURLE_ABORTED_BY_CALLBACK) && sink.completedEarly) else {
            let kind: HTTPError.Kind =
                switch code {
                case CURLE_OPERATION_TIMEDOUT: .timeout
                case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .connection
                case CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR: .interrupted
                default: .transport
                }
            throw HTTPError(
                kind: kind, method: request.method, url: request.url, code: Int(code.rawValue),
                message: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        drctl_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var opened = 0
        drctl_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &opened)
        handles.opened(opened)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }
}

/// Collects one response on the request's thread; never shared across threads.
private final class ResponseSink {
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    let complete: (@Sendable ([UInt8]) -> Bool)?
    let chunk: (@Sendable ([UInt8]) -> Void)?
    let keepGoing: (@Sendable () -> Bool)?
    /// `complete` or `keepGoing` ended the transfer before the server did.
    var completedEarly = false

    init(complete: (@Sendable ([UInt8]) -> Bool)?, chunk: (@Sendable ([UInt8]) -> Void)?, keepGoing: (@Sendable () -> Bool)?) {
        self.complete = complete
        self.chunk = chunk
        self.keepGoing = keepGoing
    }

    func header(_ line: String) {
        // A new status line (after a redirect or 100 Continue) starts a new header block.
        if line.hasPrefix("HTTP/") { headers = [:]; return }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimming(" \t\r\n")
        headers[name] = value
    }
}
