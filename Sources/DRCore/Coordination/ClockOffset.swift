/// How far this agent's wall clock is from the leader agent's, measured from etcd reads
/// alone, without a record written on a timer.
///
/// Member records are written only when something material changes (`PublicationSchedule`),
/// so their publication times say nothing about clocks any more. The leader's progress
/// still carries its publication time (`PrimaryProgress.publishedAtMillis`), and when a
/// read returns a progress the previous read did not, the leader stamped it between the two
/// reads: after the previous one was sent, before this one was answered, on this agent's
/// clock. The middle of that window, less the stamp, is the offset, give or take half the
/// window. Wall clocks decide nothing in a failover; they date scheduled switchovers
/// (`--at`) and reports, so an offset beyond `tolerance` is published for `drctl status`.
public struct ClockOffset: Sendable, Equatable {
    /// Offsets within this (plus the measurement's own uncertainty) are not reported.
    public static let tolerance: Duration = .seconds(5)
    /// A reported offset is material (written again) when it moves by this many seconds.
    public static let step = 5

    /// A progress a read returned, and this agent's wall clock when that read was sent.
    public struct Sighting: Sendable, Equatable {
        public var progress: PrimaryProgress
        public var sentMillis: Int64
        public init(_ progress: PrimaryProgress, sentMillis: Int64) {
            self.progress = progress
            self.sentMillis = sentMillis
        }
    }

    /// The progress of the last read, to tell whether the next read's is new.
    public private(set) var lastSighting: Sighting?
    /// The offset this agent publishes, in seconds (ahead of the leader when positive): nil
    /// while within the tolerance, unmeasured, or this agent leads.
    public private(set) var reportedSeconds: Int?

    public init() {}

    /// Takes in one read's progress: `sentMillis` and `answeredMillis` are this agent's wall
    /// clock when the read was sent and when its answer came.
    public mutating func observe(_ progress: PrimaryProgress?, me: String, sentMillis: Int64, answeredMillis: Int64) {
        defer { lastSighting = progress.map { Sighting($0, sentMillis: sentMillis) } }
        guard let progress, progress.node != me else {
            reportedSeconds = nil
            return
        }
        guard let previous = lastSighting, previous.progress.node == progress.node,
            let estimate = Self.estimateMillis(previous: previous, current: progress, answeredMillis: answeredMillis)
        else { return }
        let uncertainty = (answeredMillis - previous.sentMillis) / 2
        reportedSeconds = abs(estimate) > Self.tolerance.milliseconds + uncertainty ? Int((Double(estimate) / 1000).rounded()) : nil
    }

    /// This agent's clock less the leader's, in milliseconds, when `current` was published
    /// between the read that returned `previous` and the one answered at `answeredMillis`;
    /// nil when it was not (unchanged) or carries no publication time (an earlier version's).
    public static func estimateMillis(previous: Sighting, current: PrimaryProgress, answeredMillis: Int64) -> Int64? {
        guard current != previous.progress, let stamp = current.publishedAtMillis, answeredMillis >= previous.sentMillis else { return nil }
        return previous.sentMillis + (answeredMillis - previous.sentMillis) / 2 - stamp
    }
}
