import DRCore

/// The rows of one query, copied out of libpq's `PGresult` in text form, with typed
/// accessors that fail with the column, the value and the node instead of crashing.
public struct PGResultSet: Sendable {
    public let node: String
    public let columns: [String]
    public let rows: [PGRow]
    /// What the server said besides the rows ("WARNING: …", with its detail): a commit whose
    /// wait for synchronous replication was cancelled comes back with rows and a warning.
    public let notices: [String]

    init(node: String, columns: [String], values: [[String?]], notices: [String] = []) {
        self.node = node
        self.columns = columns
        self.notices = notices
        let index = Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        self.rows = values.map { PGRow(node: node, columnIndex: index, values: $0) }
    }

    /// The only row; an error when there is none or more than one.
    public func single() throws(PGError) -> PGRow {
        guard rows.count == 1 else {
            throw PGError(kind: .decode, node: node, message: "expected exactly one row, got \(rows.count)")
        }
        return rows[0]
    }
}

/// One result row. Accessors take the column name; `optional…` variants accept SQL NULL.
public struct PGRow: Sendable {
    let node: String
    let columnIndex: [String: Int]
    let values: [String?]

    public func optionalString(_ column: String) throws(PGError) -> String? {
        guard let index = columnIndex[column] else {
            throw PGError(kind: .decode, node: node, message: "no column \"\(column)\" in the result (columns: \(columnIndex.keys.sorted().joined(separator: ", ")))")
        }
        return values[index]
    }

    /// The first column's text, whatever its name (drill validation queries compare it).
    public var firstValue: String? { values.first ?? nil }

    public func string(_ column: String) throws(PGError) -> String {
        guard let value = try optionalString(column) else { throw nullError(column) }
        return value
    }

    public func optionalInt(_ column: String) throws(PGError) -> Int? {
        try optionalString(column).map { text throws(PGError) in
            guard let value = Int(text) else { throw typeError(column, text, "an integer") }
            return value
        }
    }

    public func int(_ column: String) throws(PGError) -> Int {
        guard let value = try optionalInt(column) else { throw nullError(column) }
        return value
    }

    public func optionalDouble(_ column: String) throws(PGError) -> Double? {
        try optionalString(column).map { text throws(PGError) in
            guard let value = Double(text) else { throw typeError(column, text, "a number") }
            return value
        }
    }

    public func optionalBool(_ column: String) throws(PGError) -> Bool? {
        try optionalString(column).map { text throws(PGError) in
            switch text {
            case "t": return true
            case "f": return false
            default: throw typeError(column, text, "a boolean (t or f)")
            }
        }
    }

    public func bool(_ column: String) throws(PGError) -> Bool {
        guard let value = try optionalBool(column) else { throw nullError(column) }
        return value
    }

    public func optionalLSN(_ column: String) throws(PGError) -> LSN? {
        try optionalString(column).map { text throws(PGError) in
            guard let value = LSN(text) else { throw typeError(column, text, "an LSN like 16/B374D848") }
            return value
        }
    }

    public func lsn(_ column: String) throws(PGError) -> LSN {
        guard let value = try optionalLSN(column) else { throw nullError(column) }
        return value
    }

    private func nullError(_ column: String) -> PGError {
        PGError(kind: .decode, node: node, message: "column \"\(column)\" is NULL, expected a value")
    }

    private func typeError(_ column: String, _ text: String, _ expected: String) -> PGError {
        PGError(kind: .decode, node: node, message: "column \"\(column)\" is \"\(text)\", expected \(expected)")
    }
}
