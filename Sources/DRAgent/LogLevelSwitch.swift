import Logging
import Synchronization

/// The least severe level the process logs, changeable while it runs: a reload sets it from
/// `log.level` (unless `--log-level` pinned it for the run). swift-log reads a handler's
/// level on every call, so every logger follows at once.
public final class LogLevelSwitch: Sendable {
    public static let shared = LogLevelSwitch()

    private let state = Mutex<(level: Logger.Level, pinned: Bool)>((.info, false))

    public var level: Logger.Level { state.withLock { $0.level } }

    /// Sets the level at start; `pinned` (from `--log-level`) makes reloads leave it alone.
    public func start(_ level: Logger.Level, pinned: Bool) { state.withLock { $0 = (level, pinned) } }

    /// A reload's `log.level`; false (nothing changed) when the level is pinned for this run.
    @discardableResult func reload(_ level: Logger.Level) -> Bool {
        state.withLock { state in
            guard !state.pinned else { return false }
            state.level = level
            return true
        }
    }
}

/// A handler whose level is the switch's, unless one logger sets its own.
struct SwitchedLevelLogHandler: LogHandler {
    var inner: any LogHandler
    let levels: LogLevelSwitch
    var own: Logger.Level?

    var logLevel: Logger.Level {
        get { own ?? levels.level }
        set { own = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    func log(event: LogEvent) { inner.log(event: event) }
}
