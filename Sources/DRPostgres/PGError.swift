import Foundation

/// A failure talking to a PostgreSQL node, with what the operator needs to act on it.
public struct PGError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// No session could be established (refused, timed out, authentication).
        case connection
        /// The server rejected or aborted a statement.
        case query
        /// A result value did not have the expected type.
        case decode
        /// The connection was already closed.
        case closed
        /// The server did not answer within the client's own limit (a frozen server, a
        /// black-holed network): the statement was cancelled and the session closed.
        case timeout
    }

    public var kind: Kind
    /// The configured node name (or the target's description) this error concerns.
    public var node: String
    /// Five-character SQLSTATE when the server sent one, e.g. `57014` (statement timeout).
    public var sqlstate: String?
    public var message: String

    public init(kind: Kind, node: String, sqlstate: String? = nil, message: String) {
        self.kind = kind
        self.node = node
        self.sqlstate = sqlstate
        // libpq's messages span lines ("…refused\n\tIs the server running…"); one line
        // keeps tables, logs and JSON readable.
        self.message = message.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }

    public var description: String {
        let state = sqlstate.map { " (SQLSTATE \($0))" } ?? ""
        switch kind {
        case .connection: return "node \(node): cannot connect\(state): \(message)"
        case .query: return "node \(node): query failed\(state): \(message)"
        case .decode: return "node \(node): unexpected result: \(message)"
        case .closed: return "node \(node): connection already closed"
        case .timeout: return "node \(node): no answer in time: \(message)"
        }
    }
}
