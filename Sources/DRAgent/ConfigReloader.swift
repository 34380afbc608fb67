import DRCore
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the configuration file on SIGHUP (`systemctl reload`, `drctl reload`): applies
/// what can change live and refuses, whole, a file that changes what needs a restart (see
/// `ConfigReload`), with a log line saying so. A file that cannot be read or parsed changes
/// nothing either. It never stops the agent. Each outcome is written to
/// `STATE_DIR/reload.json` for `drctl reload` to report.
public struct ConfigReloader: Service {
    let file: String
    let stateDir: String
    let live: LiveConfig
    let agents: [NodeAgent]
    let log: Logger

    /// Where the outcome of the last reload is written, and where the agent's PID is.
    public static func outcomeFile(stateDir: String) -> String { "\(stateDir)/reload.json" }
    public static func pidFile(stateDir: String) -> String { "\(stateDir)/agent.pid" }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals { await reload() }
        }
    }

    /// Reads the file again and applies it, or says why not.
    @discardableResult
    func reload() async -> ReloadOutcome {
        var outcome = ReloadOutcome(atMillis: Int64(Date().timeIntervalSince1970 * 1000), hash: live.hash, applied: false)
        defer { record(outcome) }
        let loaded: ClusterConfig
        do {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw ReloadFailure(description: "\(file): cannot read the configuration file")
            }
            loaded = try ConfigLoader.load(yaml: text, file: file)
        } catch {
            outcome.error = "\(error)"
            log.error("reload refused: the configuration file is not valid; the agent keeps running the previous one", metadata: ["error": "\(error)"])
            return outcome
        }
        let hash = LiveConfig.hash(ofFile: file)
        let review = ConfigReload.review(running: live.value, loaded: loaded)
        guard review.needsRestart.isEmpty else {
            outcome.refused = review.needsRestart
            for reason in review.needsRestart {
                log.error(
                    "reload refused: \(reason); restart the agent to apply it (systemctl restart drctl-agent@REGION). Nothing of the file was applied",
                    metadata: ["file": "\(file)"])
            }
            return outcome
        }
        live.replace(loaded, hash: hash)
        for agent in agents { await agent.reload(loaded, hash: hash) }
        if let level = Logger.Level(rawValue: loaded.log.level.rawValue), !LogLevelSwitch.shared.reload(level), review.changed.contains("log") {
            log.notice("log.level not changed: --log-level set it for this run")
        }
        outcome.applied = true
        outcome.hash = hash
        outcome.changed = review.changed
        log.notice(
            "configuration reloaded",
            metadata: ["hash": "\(hash)", "changed": "\(review.changed.isEmpty ? "nothing" : review.changed.joined(separator: ", "))"])
        return outcome
    }

    private func record(_ outcome: ReloadOutcome) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(outcome) else { return }
        let path = Self.outcomeFile(stateDir: stateDir)
        // Written whole and renamed: `drctl reload` never reads half of it.
        if FileManager.default.createFile(atPath: path + ".tmp", contents: data) { _ = rename(path + ".tmp", path) }
    }
}

/// What a reload did: applied (with the sections that changed) or not (why).
public struct ReloadOutcome: Sendable, Equatable, Codable {
    public var atMillis: Int64
    /// The hash of the configuration file the agent runs after the reload.
    public var hash: String
    public var applied: Bool
    public var changed: [String] = []
    /// What needs a restart; nothing was applied.
    public var refused: [String] = []
    /// The file could not be read or parsed; nothing was applied.
    public var error: String? = nil

    enum CodingKeys: String, CodingKey {
        case atMillis = "at_ms", hash, applied, changed, refused, error
    }
}

struct ReloadFailure: Error, CustomStringConvertible {
    let description: String
}
