import ArgumentParser
import Foundation

/// Ends the command with a contract exit code and a message for standard error.
public struct CLIExit: Error {
    public var code: Int32
    public var message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    public static func failed(_ message: String) -> CLIExit { CLIExit(code: 1, message: message) }
    public static func badInput(_ message: String) -> CLIExit { CLIExit(code: 2, message: message) }
    /// Exit 1 without a message: the output already said why (e.g. an unhealthy status).
    public static let unhealthy = CLIExit(code: 1, message: "")
}

/// Runs a command line's root command with the exit codes of the CLI contract
/// (docs/design.md): 0 success or healthy, 1 an operation that failed or a cluster
/// that is not healthy, 2 bad usage or bad input. `drctl` and `drctl-lab` share it.
public enum CommandMain {
    public static func run<Root: ParsableCommand>(_ root: Root.Type) async {
        do {
            var command = try Root.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as CLIExit {
            if !exit.message.isEmpty { FileHandle.standardError.write(Data((exit.message + "\n").utf8)) }
            Foundation.exit(exit.code)
        } catch {
            let code = Root.exitCode(for: error)
            let message = Root.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            // ArgumentParser reports usage errors as 64 (EX_USAGE); the contract says 2.
            Foundation.exit(code == .validationFailure ? 2 : 1)
        }
    }

    /// This process's executable (what `/proc/self/exe` points at).
    public static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The executable `name` beside this one (`drctl-lab` runs the lab's agents with the
    /// `drctl` built beside it).
    public static func beside(_ name: String) -> String {
        URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(name).path
    }
}
