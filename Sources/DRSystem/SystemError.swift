/// A failure running or controlling a local program.
public enum SystemError: Error, CustomStringConvertible, Sendable {
    case missingProgram(String)
    case commandFailed(command: String, status: Int32, output: String)
    case timeout(what: String, after: Duration, log: String?)
    case io(String)

    public var description: String {
        switch self {
        case .missingProgram(let name):
            return "\(name) is not installed: run `make setup` (it installs PostgreSQL 15, etcd-server, pdns-server, pdns-backend-sqlite3, bind9-dnsutils and sqlite3)"
        case let .commandFailed(command, status, output):
            return "`\(command)` failed (exit \(status)):\n\(output)"
        case let .timeout(what, after, log):
            return "\(what) did not happen within \(after)" + (log.map { "; see \($0)" } ?? "")
        case .io(let message):
            return message
        }
    }
}
