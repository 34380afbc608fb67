import DRBackup
import DRCore
import Foundation

/// Drill reports in the repository: `drills/RUN_ID/report.json` and `report.html`.
public struct DrillReports: Sendable {
    public let directory: String
    let repository: BackupRepository

    public init(repository: BackupRepository) {
        self.repository = repository
        directory = "\(repository.clusterDirectory)/drills"
    }

    public struct Entry: Sendable, Encodable {
        public var id: String
        public var drill: String
        public var startedAt: String
        public var passed: Bool
        public var rtoSeconds: Double?
        public var rpoSeconds: Double?
        public var reportHTML: String
        public var reportJSON: String

        enum CodingKeys: String, CodingKey {
            case id, drill, passed
            case startedAt = "started_at", rtoSeconds = "rto_seconds", rpoSeconds = "rpo_seconds", reportHTML = "report_html", reportJSON = "report_json"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id); try c.encode(drill, forKey: .drill); try c.encode(startedAt, forKey: .startedAt)
            try c.encode(passed, forKey: .passed); try c.encode(rtoSeconds, forKey: .rtoSeconds); try c.encode(rpoSeconds, forKey: .rpoSeconds)
            try c.encode(reportHTML, forKey: .reportHTML); try c.encode(reportJSON, forKey: .reportJSON)
        }
    }

    func write(_ report: DrillReport) throws -> DrillRunner.Outcome {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try repository.store(try encoder.encode(report), at: "drills/\(report.id)/report.json")
        let html = try repository.store(Data(DrillReportHTML.render(report).utf8), at: "drills/\(report.id)/report.html")
        return DrillRunner.Outcome(report: report, json: json, html: html)
    }

    public func list() throws -> [Entry] {
        let ids = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        return try ids.compactMap { id in
            guard let report = try report(id) else { return nil }
            return Entry(
                id: id, drill: report.drill, startedAt: report.startedAt, passed: report.passed, rtoSeconds: report.rtoSeconds,
                rpoSeconds: report.rpoSeconds, reportHTML: "\(directory)/\(id)/report.html", reportJSON: "\(directory)/\(id)/report.json")
        }
    }

    public func report(_ id: String) throws -> DrillReport? {
        let path = "\(directory)/\(id)/report.json"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do { return try JSONDecoder().decode(DrillReport.self, from: data) } catch {
            throw BackupError.corruptManifest(path: path, detail: "\(error)")
        }
    }
}
