import DRCore
import DRPostgres

/// Runs validation queries (a drill's, or the config's for `drctl restore`) against a
/// recovered database: each first column compared with its expected text.
public enum ValidationQueries {
    public static func run(_ queries: [DrillSpec.Validation], conninfo: String) async -> [DrillReport.ValidationResult] {
        var results: [DrillReport.ValidationResult] = []
        for query in queries {
            do {
                let got = try await PGConnection.withSession(node: "restored", conninfo: conninfo, statementTimeout: .seconds(60)) { session in
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
