import DRSystem
import Foundation
import Testing

/// A program fed through its standard input: every byte arrives in order, and a reader
/// that stops early is its exit status to judge, never a SIGPIPE that kills drctl.
@Suite struct FedCommandTests {
    static func chunk(_ index: Int) -> [UInt8] { (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &+ index) } }

    @Test func everyByteArrivesInOrder() async throws {
        let out = NSTemporaryDirectory() + "drctl-fed-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let command = try FedCommand(["sh", "-c", "cat > \(out)"])
        var sent: [UInt8] = []
        // More than a pipe's buffer: the writer has to wait for the reader.
        for index in 0..<48 {
            let bytes = Self.chunk(index)
            sent += bytes
            try bytes.withUnsafeBytes { try command.write($0) }
        }
        let result = await command.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(sent))
    }

    @Test func aReaderThatStopsEarlyIsJudgedByItsStatus() async throws {
        let quits = try FedCommand(["sh", "-c", "head -c 10 > /dev/null; echo stopped >&2; exit 3"])
        for index in 0..<48 { try Self.chunk(index).withUnsafeBytes { try quits.write($0) } }
        let result = await quits.finish()
        #expect(result.status == 3 && result.stderr.contains("stopped"))
        // A reader that had all it needed and succeeded is a success.
        let content = try FedCommand(["head", "-c", "10"])
        for index in 0..<48 { try Self.chunk(index).withUnsafeBytes { try content.write($0) } }
        #expect(await content.finish().status == 0)
    }

    @Test func cancelStopsAReaderThatNeverEnds() async throws {
        let endless = try FedCommand(["sleep", "600"])
        await endless.cancel()
        let again = try FedCommand(["sh", "-c", "exec cat > /dev/null"])
        try Self.chunk(1).withUnsafeBytes { try again.write($0) }
        await again.cancel()
    }
}
