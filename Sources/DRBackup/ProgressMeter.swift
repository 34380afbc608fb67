import Foundation

/// Bytes, rate and ETA of a long operation on a terminal (stderr), redrawn at most a few
/// times a second; silent when stderr is not a terminal (logs, cron, CI).
public final class ProgressMeter: @unchecked Sendable {
    private let label: String
    private let total: UInt64?
    private let enabled: Bool
    private let lock = NSLock()
    private let started = Date()
    private var bytes: UInt64 = 0
    private var lastDrawn = Date.distantPast

    /// - Parameter total: the expected size, for the ETA; nil when unknown.
    public init(label: String, total: UInt64? = nil, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.total = total
        self.enabled = enabled
    }

    /// Sets the running total (for operations measured by polling, not by the bytes that pass).
    public func set(_ total: UInt64) {
        guard enabled else { return }
        lock.withLock { bytes = total }
        advance(by: 0)
    }

    /// Runs `operation` while polling `measure` once a second into the meter.
    public func polling<T: Sendable>(_ measure: @escaping @Sendable () async -> UInt64?, during operation: () async throws -> T) async rethrows -> T {
        guard enabled else { return try await operation() }
        let poller = Task {
            while !Task.isCancelled {
                if let value = await measure() { set(value) }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        defer { poller.cancel(); finish() }
        return try await operation()
    }

    public func advance(by count: Int) {
        guard enabled else { return }
        lock.withLock {
            bytes += UInt64(count)
            let now = Date()
            guard count == 0 || now.timeIntervalSince(lastDrawn) >= 0.2 else { return }
            lastDrawn = now
            draw(now)
        }
    }

    public func finish() {
        guard enabled else { return }
        lock.withLock {
            draw(Date())
            FileHandle.standardError.write(Data("\n".utf8))
        }
    }

    private func draw(_ now: Date) {
        let elapsed = max(now.timeIntervalSince(started), 0.001)
        let rate = Double(bytes) / elapsed
        var line = "\r\(label): \(Self.size(Double(bytes)))  \(Self.size(rate))/s"
        if let total, rate > 0, total > bytes { line += "  ETA \(Int((Double(total - bytes) / rate).rounded()))s" }
        FileHandle.standardError.write(Data((line + "   ").utf8))
    }

    static func size(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = value, unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return String(format: unit == 0 ? "%.0f %@" : "%.1f %@", value, units[unit])
    }
}
