/// How far a standby build has come: what the node's agent logs every few seconds and
/// publishes in its member record (`building`), so `drctl status` shows a long clone instead
/// of a node that is merely down.
public struct CloneProgress: Sendable, Equatable, CustomStringConvertible {
    public enum Phase: String, Sendable {
        /// `pg_basebackup` from the primary.
        case copying
        /// The repository's base backup streamed down and unpacked at once.
        case restoring
    }

    public var source: ReplicaConfig.Source
    public var phase: Phase
    public var bytes: UInt64
    /// The size the phase is expected to reach (the leader's databases, the backup's tar);
    /// nil when unknown. An estimate: WAL and compression make the end differ.
    public var expected: UInt64?
    public var elapsed: Duration

    public init(source: ReplicaConfig.Source, phase: Phase, bytes: UInt64, expected: UInt64?, elapsed: Duration) {
        self.source = source
        self.phase = phase
        self.bytes = bytes
        self.expected = expected
        self.elapsed = elapsed
    }

    /// E.g. `from primary: copying 1.2 GiB of ~3.4 GiB (35%), 40.0 MiB/s, 12s`.
    public var description: String {
        var text = "from \(source.rawValue): \(phase.rawValue) \(Self.size(bytes))"
        if let expected, expected > 0 {
            text += " of ~\(Self.size(expected)) (\(min(100, Int(Double(bytes) * 100 / Double(expected))))%)"
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if seconds >= 1 { text += ", \(Self.size(UInt64(Double(bytes) / seconds)))/s" }
        return text + ", \(Int(seconds.rounded()))s"
    }

    static func size(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        return "\((value * 10).rounded() / 10) \(units[unit])"
    }
}
