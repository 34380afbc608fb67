import DRSystem
import Foundation
import Testing

/// A child started by drctl inherits standard input, output and error, and nothing else:
/// a postmaster started by the agent while a backup streams must not hold that backup's
/// pipe open (it would never end), nor any socket or file of the agent's.
@Suite(.timeLimit(.minutes(1))) struct DescriptorInheritanceTests {
    /// The descriptors the child shell has open, by number.
    static func childDescriptors(_ output: String) -> Set<Int> {
        Set(output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) })
    }

    @Test func aStreamedCommandInheritsOnlyItsStandardDescriptors() async throws {
        // A descriptor of the parent's that is not close-on-exec, as libraries leave them.
        var leaked: [Int32] = [0, 0]
        #expect(pipe(&leaked) == 0)
        defer { close(leaked[0]); close(leaked[1]) }
        let collected = OutputBox()
        let result = try await StreamingCommand.run(["sh", "-c", "ls /proc/$$/fd"]) { chunk in collected.append(chunk) }
        #expect(result.status == 0)
        let descriptors = Self.childDescriptors(collected.text)
        #expect(descriptors.isSubset(of: [0, 1, 2]), "the child inherited \(descriptors.subtracting([0, 1, 2]).sorted())")
        #expect(!descriptors.contains(Int(leaked[1])))
    }

    @Test func aCommandInheritsOnlyItsStandardDescriptors() async throws {
        var leaked: [Int32] = [0, 0]
        #expect(pipe(&leaked) == 0)
        defer { close(leaked[0]); close(leaked[1]) }
        let output = try await CommandRunner.run(["sh", "-c", "ls /proc/$$/fd"])
        let descriptors = Self.childDescriptors(output.stdout)
        #expect(descriptors.isSubset(of: [0, 1, 2]), "the child inherited \(descriptors.subtracting([0, 1, 2]).sorted())")
    }
}

/// Collects a streamed command's output across its reading thread.
final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: UnsafeRawBufferPointer) {
        lock.lock()
        data.append(contentsOf: chunk)
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
