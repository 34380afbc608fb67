/// One problem found in a configuration file, located for the operator who must fix it.
public struct ConfigDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based line and column; nil when the problem has no single place (e.g. empty file).
    public var line: Int?
    public var column: Int?
    /// Key path, e.g. `regions[1].nodes[0].conninfo`; empty for the document itself.
    public var path: String
    public var message: String

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}

/// A configuration that could not be accepted, with every problem found in it.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [ConfigDiagnostic]

    public var description: String {
        let noun = diagnostics.count == 1 ? "problem" : "problems"
        return "\(diagnostics.count) \(noun) in the configuration:\n"
            + diagnostics.map { "  " + $0.description }.joined(separator: "\n")
    }
}
