import CLibPQ
import DRCore
import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One libpq session with a node.
///
/// libpq calls block, so every call runs on this connection's own serial dispatch queue and
/// is bridged to async with a continuation: Swift's cooperative pool never waits on the
/// network. The queue also confines the non-Sendable `PGconn` pointer, which is why the class
/// can honestly be `@unchecked Sendable`.
public final class PGConnection: @unchecked Sendable {
    public let node: String
    private let queue: DispatchQueue
    private var handle: OpaquePointer?
    /// How long the client waits for any answer: the server's statement time-out does
    /// nothing when the server is frozen or the network drops every packet, and TCP would
    /// otherwise wait out its retransmissions (minutes) with the agent's tick stalled.
    private let answerLimit: Duration
    /// The server's notices and warnings during the statement running now (libpq hands
    /// them to a callback, on this connection's queue, instead of printing them).
    private let notices = NoticeBuffer()

    private init(node: String, handle: OpaquePointer, queue: DispatchQueue, answerLimit: Duration) {
        self.node = node
        self.handle = handle
        self.queue = queue
        self.answerLimit = answerLimit
        PQsetNoticeReceiver(
            handle,
            { context, result in
                guard let context, let result else { return }
                let buffer = Unmanaged<NoticeBuffer>.fromOpaque(context).takeUnretainedValue()
                let severity = PQresultErrorField(result, Int32(UInt8(ascii: "V"))).map { String(cString: $0) } ?? "NOTICE"
                let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) } ?? ""
                let detail = PQresultErrorField(result, Int32(UInt8(ascii: "D"))).map { " (\(String(cString: $0)))" } ?? ""
                buffer.messages.append("\(severity): \(message)\(detail)")
            }, Unmanaged.passUnretained(notices).toOpaque())
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Connects with `conninfo` (libpq key=value or URI; `.pgpass`, service files and sslmode
    /// behave as usual) and bounds both the connection and every statement.
    ///
    /// - Parameters:
    ///   - connectTimeout: per-host connection limit; libpq rounds it up to 2 s at least.
    ///   - statementTimeout: server-side limit on each statement, so a stuck node cannot
    ///     hold a probe forever.
    public static func connect(
        node: String, conninfo: String, connectTimeout: Duration = .seconds(2),
        statementTimeout: Duration = .seconds(5), applicationName: String = "drctl"
    ) async throws -> PGConnection {
        let queue = DispatchQueue(label: "drctl.pg.\(node)")
        let timeoutSeconds = max(1, Int((connectTimeout.seconds).rounded(.up)))
        let handle: OpaquePointer = try await withCheckedThrowingContinuation { continuation in
            queue.async {
                // dbname is expanded as a full conninfo; the keywords after it add our limits
                // without touching anything the operator set (fallback_application_name only
                // applies when the conninfo names none).
                let keys = ["dbname", "connect_timeout", "fallback_application_name"]
                let values = [conninfo, String(timeoutSeconds), applicationName]
                let conn = withCStringArray(keys) { k in withCStringArray(values) { v in PQconnectdbParams(k, v, 1) } }
                guard let conn else {
                    continuation.resume(throwing: PGError(kind: .connection, node: node, message: "libpq could not allocate a connection"))
                    return
                }
                guard PQstatus(conn) == CONNECTION_OK else {
                    let message = lastError(conn)
                    PQfinish(conn)
                    continuation.resume(throwing: PGError(kind: .connection, node: node, message: message))
                    return
                }
                continuation.resume(returning: conn)
            }
        }
        // The server's own time-out answers first whenever the server can answer at all.
        let connection = PGConnection(node: node, handle: handle, queue: queue, answerLimit: statementTimeout + connectTimeout + .seconds(1))
        _ = try await connection.query("SELECT set_config('statement_timeout', $1, false)", [String(statementTimeout.milliseconds)])
        return connection
    }

    /// Opens a session, runs `body` with it and closes it, also when `body` throws.
    public static func withSession<T: Sendable>(
        node: String, conninfo: String, connectTimeout: Duration = .seconds(2), statementTimeout: Duration = .seconds(5),
        _ body: (PGConnection) async throws -> T
    ) async throws -> T {
        let session = try await connect(node: node, conninfo: conninfo, connectTimeout: connectTimeout, statementTimeout: statementTimeout)
        do {
            let result = try await body(session)
            await session.close()
            return result
        } catch {
            await session.close()
            throw error
        }
    }

    /// Runs one statement with text parameters (`$1`, `$2`, …; nil is SQL NULL) and returns
    /// its rows. Parameters are never interpolated into the SQL text.
    public func query(_ sql: String, _ parameters: [String?] = []) async throws -> PGResultSet {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { () throws(PGError) in try self.runOnQueue(sql, parameters) })
            }
        }
    }

    /// Closes the session now instead of when the last reference goes away.
    public func close() async {
        await withCheckedContinuation { continuation in
            queue.async {
                if let handle = self.handle { PQfinish(handle) }
                self.handle = nil
                continuation.resume()
            }
        }
    }

    private func runOnQueue(_ sql: String, _ parameters: [String?]) throws(PGError) -> PGResultSet {
        guard let handle else { throw PGError(kind: .closed, node: node, message: "closed") }
        notices.messages = []
        let sent = withOptionalCStringArray(parameters) { params in
            PQsendQueryParams(handle, sql, Int32(parameters.count), nil, params, nil, nil, 0)
        }
        guard sent == 1 else { throw PGError(kind: .query, node: node, message: lastError(handle)) }
        try awaitAnswer(handle)
        // One statement gives one result, then nil; a failed one may be followed by others.
        // The first failure wins: rows can arrive before the commit does (INSERT … RETURNING),
        // and a server that dies while the commit waits — a fast shutdown during a
        // synchronous-replication wait — has sent rows but never confirmed the commit.
        var first: OpaquePointer?, firstFailure: OpaquePointer?
        while let result = PQgetResult(handle) {
            let ok = [PGRES_TUPLES_OK, PGRES_COMMAND_OK].contains(PQresultStatus(result))
            if first == nil {
                first = result
            } else if !ok, firstFailure == nil, [PGRES_TUPLES_OK, PGRES_COMMAND_OK].contains(PQresultStatus(first)) {
                firstFailure = result
            } else {
                PQclear(result)
            }
        }
        if let failure = firstFailure, let rows = first {
            PQclear(rows)
            first = failure
        }
        guard let result = first else { throw PGError(kind: .query, node: node, message: lastError(handle)) }
        defer { PQclear(result) }
        // No error result, yet the connection broke before the end of the answer: the
        // statement's outcome is unknown, so it is not reported as done.
        if PQstatus(handle) == CONNECTION_BAD {
            throw PGError(kind: .query, node: node, message: "the connection broke before the server confirmed the statement: " + lastError(handle))
        }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
            break
        default:
            let sqlstate = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = PQresultErrorMessage(result).map { String(cString: $0) } ?? "unknown error"
            throw PGError(kind: .query, node: node, sqlstate: sqlstate, message: message.trimmingTrailingNewlines())
        }
        let columnCount = PQnfields(result), rowCount = PQntuples(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        let values = (0..<rowCount).map { row in
            (0..<columnCount).map { column -> String? in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            }
        }
        return PGResultSet(node: node, columns: columns, values: values, notices: notices.messages)
    }

    /// Waits (on this connection's queue, never the cooperative pool) until the whole answer
    /// has arrived, at most `answerLimit`. Past it the statement is cancelled on a thread of
    /// its own (a cancel request to a frozen server can hang too) and the session closed.
    private func awaitAnswer(_ handle: OpaquePointer) throws(PGError) {
        let clock = ContinuousClock()
        let deadline = clock.now + answerLimit
        while PQisBusy(handle) == 1 {
            let left = deadline - clock.now
            guard left > .zero else {
                abandon(handle)
                throw PGError(kind: .timeout, node: node, message: "no answer within \(DurationText.format(answerLimit)); statement cancelled, session closed")
            }
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            let waited = poll(&descriptor, 1, Int32(min(left.milliseconds, 1000)))
            if waited < 0, errno != EINTR {
                throw PGError(kind: .query, node: node, message: "waiting for the server failed: \(String(cString: strerror(errno)))")
            }
            guard PQconsumeInput(handle) == 1 else { throw PGError(kind: .query, node: node, message: lastError(handle)) }
        }
    }

    private func abandon(_ handle: OpaquePointer) {
        if let cancel = PQgetCancel(handle) {
            let box = CancelBox(cancel)
            Thread {
                var buffer = [CChar](repeating: 0, count: 256)
                _ = PQcancel(box.cancel, &buffer, Int32(buffer.count))
                PQfreeCancel(box.cancel)
            }.start()
        }
        PQfinish(handle)
        self.handle = nil
    }
}

/// Hands a cancel request (which holds no reference to the connection) to its own thread.
private final class CancelBox: @unchecked Sendable {
    let cancel: OpaquePointer
    init(_ cancel: OpaquePointer) { self.cancel = cancel }
}

private func lastError(_ conn: OpaquePointer) -> String {
    PQerrorMessage(conn).map { String(cString: $0) }?.trimmingTrailingNewlines() ?? "unknown libpq error"
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = self
        while text.last?.isNewline == true || text.last == " " { text.removeLast() }
        return text
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStringArray(strings.map(Optional.some)) { body($0) }
}

func withOptionalCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicated: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { for pointer in duplicated { free(pointer) } }
    let pointers = duplicated.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Where the notice callback of one connection puts what the server said; touched only on
/// that connection's queue (libpq calls the receiver from within the call that reads).
private final class NoticeBuffer: @unchecked Sendable {
    var messages: [String] = []
}
