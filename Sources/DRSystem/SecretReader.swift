import DRCore
import Foundation

/// Reads secrets from their configured source; the error names the source, never a value.
public enum SecretReader {
    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }

    public static func read(_ source: SecretSource, what: String) throws -> String {
        switch source {
        case .environment(let name):
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw Missing(description: "\(what): environment variable \(name) is not set")
            }
            return value
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Missing(description: "\(what): cannot read \(path)")
            }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
