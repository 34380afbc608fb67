/// The holes in a WAL archive, from the names it holds: what `backup verify --archive`
/// reports, like `pgbackrest verify` and `wal-g wal-verify`. A restore from a base backup
/// replays every segment from the backup's start to the archive's end, following timeline
/// switches; a missing one ends every such restore there. Pure.
public enum ArchiveGaps {
    /// Missing segments on one timeline, first and last inclusive.
    public struct Gap: Sendable, Equatable, CustomStringConvertible {
        public var timeline: Int
        public var first: String
        public var last: String
        public var count: UInt64

        public init(timeline: Int, first: String, last: String, count: UInt64) {
            self.timeline = timeline
            self.first = first
            self.last = last
            self.count = count
        }

        public var description: String {
            count == 1 ? "timeline \(timeline): \(first) is missing" : "timeline \(timeline): \(count) segments missing, \(first) … \(last)"
        }
    }

    /// - Parameters:
    ///   - starts: each kept base backup's timeline and start position.
    ///   - archived: the archive's file names.
    public static func find(starts: [(timeline: Int, lsn: LSN)], archived: [String], segmentSize: UInt64 = 16 << 20) -> [Gap] {
        var byTimeline: [Int: Set<UInt64>] = [:]
        for name in archived where !name.contains(".") {
            guard let timeline = Int(name.prefix(8), radix: 16), let segment = RepositoryRetention.segmentNumber(name, segmentSize: segmentSize) else { continue }
            byTimeline[timeline, default: []].insert(segment)
        }
        guard let oldest = starts.min(by: { $0.lsn < $1.lsn }) else { return [] }
        var gaps: [Gap] = []
        for (timeline, segments) in byTimeline.sorted(by: { $0.key < $1.key }) where timeline >= oldest.timeline {
            guard let newest = segments.max(), let present = segments.min() else { continue }
            // On the oldest backup's timeline the archive must hold everything from its start;
            // a later timeline begins at its switch point, its first archived segment.
            let first = timeline == oldest.timeline ? oldest.lsn.value / segmentSize : present
            var missingFrom: UInt64?
            for segment in first...max(first, newest) {
                if segments.contains(segment) {
                    if let from = missingFrom { gaps.append(gap(timeline, from, segment - 1, segmentSize)) }
                    missingFrom = nil
                } else if missingFrom == nil {
                    missingFrom = segment
                }
            }
            if let from = missingFrom, newest >= from { gaps.append(gap(timeline, from, newest, segmentSize)) }
        }
        return gaps
    }

    static func gap(_ timeline: Int, _ from: UInt64, _ to: UInt64, _ segmentSize: UInt64) -> Gap {
        Gap(timeline: timeline, first: name(timeline, from, segmentSize), last: name(timeline, to, segmentSize), count: to - from + 1)
    }

    /// The WAL file name of `segment` on `timeline`.
    public static func name(_ timeline: Int, _ segment: UInt64, _ segmentSize: UInt64 = 16 << 20) -> String {
        let perLog = 0x1_0000_0000 / segmentSize
        return String(format: "%08X%08X%08X", timeline, UInt32(segment / perLog), UInt32(segment % perLog))
    }
}
