/// A point on one agent's monotonic clock, as an offset from the agent's start.
///
/// Decisions compare only instants of the same agent (never wall-clock times of two
/// machines), and tests build them from plain numbers, so no real clock is involved.
public struct AgentInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var sinceStart: Duration

    public init(_ sinceStart: Duration) { self.sinceStart = sinceStart }

    public static func seconds(_ value: Double) -> AgentInstant { AgentInstant(.milliseconds(Int64(value * 1000))) }

    public static func < (a: AgentInstant, b: AgentInstant) -> Bool { a.sinceStart < b.sinceStart }
    public static func + (a: AgentInstant, d: Duration) -> AgentInstant { AgentInstant(a.sinceStart + d) }
    public static func - (a: AgentInstant, d: Duration) -> AgentInstant { AgentInstant(a.sinceStart - d) }
    public static func - (a: AgentInstant, b: AgentInstant) -> Duration { a.sinceStart - b.sinceStart }

    public var description: String { "t+\(DurationText.format(sinceStart))" }
}
