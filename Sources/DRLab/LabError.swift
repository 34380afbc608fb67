/// Why a lab operation failed, phrased so the reader knows what to do next.
public enum LabError: Error, CustomStringConvertible, Sendable {
    case alreadyRunning(dir: String, pids: [Int32])
    case staleLab(dir: String)
    case notALab(dir: String)
    case inaccessible(dir: String, user: String)
    case io(String)

    public var description: String {
        switch self {
        case let .alreadyRunning(dir, pids):
            return "a lab is already running in \(dir) (pids \(pids.map(String.init).joined(separator: ", "))): nothing was changed; use `drctl-lab status` to see it or `drctl-lab down` to remove it"
        case .staleLab(let dir):
            return "\(dir) holds a lab whose processes are not running: nothing was changed; run `drctl-lab down --dir \(dir)` to remove it first"
        case .notALab(let dir):
            return "\(dir) is not a drctl-lab (no lab.json): refusing to touch it"
        case let .inaccessible(dir, user):
            return "the \(user) user cannot write \(dir) (PostgreSQL refuses to run as root and runs as \(user)): choose a --dir whose parents are world-searchable, e.g. under /tmp or /srv"
        case .io(let message):
            return message
        }
    }
}
