import DRCore
import DRPostgres

/// Runs a drill's validation queries against the recovered database.
enum DrillValidation {
    static func run(_ queries: [DrillSpec.Validation], conninfo: String) async -> [DrillReport.ValidationResult] {
        var results: [DrillReport.ValidationResult] = []
        for query in queries {
            do {
                let got = try await PGConnection.withSession(node: "drill", conninfo: conninfo, statementTimeout: .seconds(60)) { session in
                    let result = try await session.query(query.sql)
                    guard let row = result.rows.first else { return "(no rows)" }
                    return row.firstValue ?? "NULL"
                }
                results.append(.init(sql: query.sql, expect: query.expect, got: got, passed: got == query.expect))
            } catch {
                results.append(.init(sql: query.sql, expect: query.expect, got: "error: \(error)", passed: false))
            }
        }
        return results
    }
}
