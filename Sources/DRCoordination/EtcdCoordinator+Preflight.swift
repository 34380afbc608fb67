import DRCore
import Foundation

/// Each region agent's latest preflight, under `preflight/REGION`: read by `drctl status`,
/// outside the keys agents decide from (an older agent never reads it).
extension EtcdCoordinator {
    var preflightPrefix: String { prefix + "preflight/" }

    public func publishPreflight(_ report: PreflightReport) async throws {
        try await put(preflightPrefix + report.region, try JSONEncoder().encode(report))
    }

    /// Every region's latest report; one this version cannot read is left out.
    public func preflightReports() async throws -> [PreflightReport] {
        let response = try await gateway.call(
            "/v3/kv/range", ["key": EtcdJSON.base64(preflightPrefix), "range_end": EtcdJSON.prefixEnd(preflightPrefix)])
        return (response["kvs"] as? [[String: Any]] ?? []).compactMap { kv in
            (kv["value"] as? String).flatMap { Data(base64Encoded: $0) }.flatMap { try? JSONDecoder().decode(PreflightReport.self, from: $0) }
        }
    }
}
