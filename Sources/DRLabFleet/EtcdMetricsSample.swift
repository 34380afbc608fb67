import Foundation

/// What etcd's own `/metrics` say at one moment, summed over its members: the counters and
/// histograms the fleet simulation compares between two samples.
struct EtcdMetricsSample: Sendable {
    /// Cumulative histogram buckets (upper bound in seconds → count), per histogram name.
    var histograms: [String: [Double: Double]] = [:]
    /// Counters and gauges by name (summed over labels and members).
    var values: [String: Double] = [:]
    /// When it was taken.
    var at = ContinuousClock.now

    static let histogramNames = ["etcd_disk_backend_commit_duration_seconds", "etcd_disk_wal_fsync_duration_seconds"]
    static let valueNames = [
        "process_cpu_seconds_total", "etcd_debugging_mvcc_current_revision", "grpc_server_handled_total", "etcd_mvcc_db_total_size_in_bytes",
    ]

    /// Parses the Prometheus text of one member and adds it to this sample.
    mutating func add(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            let name = series.firstIndex(of: "{").map { String(series[..<$0]) } ?? String(series)
            if name.hasSuffix("_bucket"), let histogram = Self.histogramNames.first(where: { name == $0 + "_bucket" }) {
                guard let range = series.range(of: "le=\""), let end = series[range.upperBound...].firstIndex(of: "\"") else { continue }
                let bound = series[range.upperBound..<end] == "+Inf" ? Double.infinity : Double(series[range.upperBound..<end]) ?? .nan
                histograms[histogram, default: [:]][bound, default: 0] += value
            } else if Self.valueNames.contains(name) {
                values[name, default: 0] += value
            }
        }
    }

    /// Reads every member's `/metrics` now.
    static func take(_ endpoints: [String]) async -> EtcdMetricsSample {
        var sample = EtcdMetricsSample()
        for endpoint in endpoints {
            guard let url = URL(string: endpoint + "/metrics"), let text = try? await fetch(url) else { continue }
            sample.add(text)
        }
        sample.at = .now
        return sample
    }

    private static func fetch(_ url: URL) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            // A short blocking read on a thread of its own, off the cooperative pool.
            Thread.detachNewThread {
                continuation.resume(with: Result { try String(contentsOf: url, encoding: .utf8) })
            }
        }
    }

    /// The `q` quantile of what `histogram` observed between `earlier` and this sample, in
    /// seconds, interpolated within its bucket as Prometheus' `histogram_quantile` does; nil
    /// when nothing was observed.
    func quantile(_ q: Double, of histogram: String, since earlier: EtcdMetricsSample) -> Double? {
        let now = histograms[histogram] ?? [:]
        let before = earlier.histograms[histogram] ?? [:]
        let buckets = now.keys.sorted().map { bound in (bound, (now[bound] ?? 0) - (before[bound] ?? 0)) }
        guard let total = buckets.last?.1, total > 0 else { return nil }
        let rank = q * total
        var lower = 0.0
        var countBelow = 0.0
        for (bound, cumulative) in buckets {
            if cumulative >= rank {
                if bound.isInfinite { return lower }
                let inBucket = cumulative - countBelow
                return inBucket > 0 ? lower + (bound - lower) * (rank - countBelow) / inBucket : bound
            }
            lower = bound
            countBelow = cumulative
        }
        return lower
    }

    /// How much `name` grew per second since `earlier`.
    func rate(_ name: String, since earlier: EtcdMetricsSample) -> Double {
        let seconds = Double((at - earlier.at).components.seconds) + Double((at - earlier.at).components.attoseconds) / 1e18
        guard seconds > 0 else { return 0 }
        return ((values[name] ?? 0) - (earlier.values[name] ?? 0)) / seconds
    }
}
