import Yams

/// Collects every problem of one configuration file, so all are reported at once.
final class DiagnosticLog {
    let file: String
    private(set) var diagnostics: [ConfigDiagnostic] = []

    init(file: String) { self.file = file }

    func report(_ message: String, path: String, at mark: Mark?) {
        diagnostics.append(
            ConfigDiagnostic(
                file: file, line: mark?.line, column: mark?.column, path: path, message: message))
    }
}

/// A position in the YAML document — possibly absent — with its key path, able to read
/// itself as a typed value and to report a located problem when it cannot.
///
/// Every accessor returns nil after reporting, so the loader can keep going and find the
/// next problem instead of stopping at the first.
struct YAMLField {
    let node: Node?
    let path: String
    /// Where to point the operator: the node itself, or its parent mapping when missing.
    let mark: Mark?
    let log: DiagnosticLog

    var isPresent: Bool {
        guard let node else { return false }
        if case .scalar(let scalar) = node, scalar.tag == Tag(.null) || (scalar.string.isEmpty && scalar.style == .plain) {
            return false
        }
        return true
    }

    func report(_ message: String) { log.report(message, path: path, at: mark) }

    private func scalarText(expected: String) -> String? {
        guard isPresent, let node else { return nil }
        guard case .scalar(let scalar) = node else {
            report("expected \(expected), found a \(node.kindName)")
            return nil
        }
        return scalar.string
    }

    /// A required or optional string; reports a missing required key.
    func string(required: Bool = true, expected: String = "a string") -> String? {
        guard isPresent else {
            if required { report("is required (\(expected))") }
            return nil
        }
        guard let text = scalarText(expected: expected) else { return nil }
        if text.trimming(" \t\n\r").isEmpty {
            report("must not be empty (\(expected))")
            return nil
        }
        return text
    }

    func int(in range: ClosedRange<Int>, default fallback: Int?) -> Int? {
        let expected = "a whole number from \(range.lowerBound) to \(range.upperBound)"
        guard isPresent else {
            if fallback == nil { report("is required (\(expected))") }
            return fallback
        }
        guard let text = scalarText(expected: expected) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            report("expected \(expected), found \"\(text)\"")
            return nil
        }
        return value
    }

    func bool(default fallback: Bool) -> Bool? {
        guard isPresent else { return fallback }
        guard let text = scalarText(expected: "true or false") else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report("expected true or false, found \"\(text)\"")
            return nil
        }
    }

    /// A duration such as `500ms`, `30s`, `5m`, `1h`, within `range`.
    func duration(default fallback: Duration?, in range: ClosedRange<Duration>) -> Duration? {
        let expected = "a duration like 500ms, 30s, 5m or 1h, from \(DurationText.format(range.lowerBound)) to \(DurationText.format(range.upperBound))"
        guard isPresent else {
            if fallback == nil { report("is required (\(expected))") }
            return fallback
        }
        guard let text = scalarText(expected: expected) else { return nil }
        guard let value = DurationText.parse(text) else {
            report("expected \(expected), found \"\(text)\" (a bare number has no unit)")
            return nil
        }
        guard range.contains(value) else {
            report("\(DurationText.format(value)) is out of range: expected \(expected)")
            return nil
        }
        return value
    }

    /// One of a fixed set of words.
    func choice<T: RawRepresentable & CaseIterable>(_ type: T.Type, required: Bool = true) -> T? where T.RawValue == String {
        let words = T.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = string(required: required, expected: "one of \(words)") else { return nil }
        guard let value = T(rawValue: text) else {
            report("expected one of \(words), found \"\(text)\"" + Suggestion.hint(for: text, among: T.allCases.map(\.rawValue)))
            return nil
        }
        return value
    }

    /// The elements of a sequence; an absent key is an empty list.
    func items() -> [YAMLField]? {
        guard isPresent, let node else { return [] }
        guard case .sequence(let sequence) = node else {
            report("expected a list, found a \(node.kindName)")
            return nil
        }
        return sequence.enumerated().map { index, element in
            YAMLField(node: element, path: "\(path)[\(index)]", mark: element.mark, log: log)
        }
    }

    func strings() -> [String]? {
        guard let items = items() else { return nil }
        let values = items.compactMap { $0.string() }
        return values.count == items.count ? values : nil
    }

    /// This field as a mapping whose keys must all be in `keys`.
    func object(keys: Set<String>, required: Bool = true) -> YAMLObject? {
        guard isPresent, let node else {
            if required { report("is required (a mapping with keys \(keys.sorted().joined(separator: ", ")))") }
            return nil
        }
        guard case .mapping(let mapping) = node else {
            report("expected a mapping with keys \(keys.sorted().joined(separator: ", ")), found a \(node.kindName)")
            return nil
        }
        return YAMLObject(mapping: mapping, field: self, keys: keys)
    }
}

/// A YAML mapping whose keys were checked: unknown and duplicate keys are reported, since a
/// typo that is silently ignored is how a failover setting quietly stops applying.
struct YAMLObject {
    private var values: [String: Node] = [:]
    let field: YAMLField

    init(mapping: Node.Mapping, field: YAMLField, keys: Set<String>) {
        self.field = field
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? "\(keyNode)"
            let path = field.path.isEmpty ? key : "\(field.path).\(key)"
            if !keys.contains(key) {
                field.log.report(
                    "unknown key \"\(key)\"" + Suggestion.hint(for: key, among: Array(keys))
                        + "; expected one of \(keys.sorted().joined(separator: ", ")), each explained in \(ConfigKeys.reference)",
                    path: path, at: keyNode.mark)
            } else if values[key] != nil {
                field.log.report("duplicate key \"\(key)\"", path: path, at: keyNode.mark)
            } else {
                values[key] = value
            }
        }
    }

    subscript(key: String) -> YAMLField {
        let path = field.path.isEmpty ? key : "\(field.path).\(key)"
        let node = values[key]
        return YAMLField(node: node, path: path, mark: node?.mark ?? field.mark, log: field.log)
    }

    func has(_ key: String) -> Bool { self[key].isPresent }
}

extension Node {
    var kindName: String {
        switch self {
        case .scalar: "scalar"
        case .mapping: "mapping"
        case .sequence: "list"
        case .alias: "alias"
        }
    }
}

extension YAMLField {
    /// Navigates to a key without validating anything, for rules that report on a place
    /// already parsed (so unknown keys are not reported twice).
    func child(_ key: String) -> YAMLField {
        let path = self.path.isEmpty ? key : "\(self.path).\(key)"
        guard case .mapping(let mapping)? = node, let value = mapping[key] else {
            return YAMLField(node: nil, path: path, mark: mark, log: log)
        }
        return YAMLField(node: value, path: path, mark: value.mark, log: log)
    }

    /// The element at `index` of a list, without validation; see `child`.
    func element(_ index: Int) -> YAMLField {
        let path = "\(self.path)[\(index)]"
        guard case .sequence(let sequence)? = node, sequence.indices.contains(index) else {
            return YAMLField(node: nil, path: path, mark: mark, log: log)
        }
        let value = sequence[index]
        return YAMLField(node: value, path: path, mark: value.mark, log: log)
    }
}
