import DRBackup
import DRCore
import Foundation

/// Drill reports in the repository: `drills/RUN_ID/report.json` and `report.html`.
public struct DrillReports: Sendable {
    let repository: BackupRepository

    public init(repository: BackupRepository) { self.repository = repository }

    /// Where the reports are, for messages and links: a directory or an s3:// URL.
    public var location: String { "\(repository.location)/drills" }

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

    /// A run id no other run has: `stem`, or `stem-2`, `stem-3`… The claim is a conditional
    /// create, so two runs starting at once cannot both take one id.
    func claim(_ stem: String) async throws -> String {
        try await repository.objects.prepareForWriting()
        for suffix in 1...1000 {
            let id = suffix == 1 ? stem : "\(stem)-\(suffix)"
            if try await repository.objects.create("\(repository.cluster)/drills/\(id)/claimed", Data(UTCTime.iso8601(Date()).utf8)) {
                return id
            }
        }
        throw BackupError.refused("no free drill report id for \(stem) in \(location)")
    }

    func write(_ report: DrillReport) async throws -> DrillRunner.Outcome {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try await repository.store(try encoder.encode(report), at: "drills/\(report.id)/report.json")
        let html = try await repository.store(Data(DrillReportHTML.render(report).utf8), at: "drills/\(report.id)/report.html")
        return DrillRunner.Outcome(report: report, json: json, html: html)
    }

    public func list() async throws -> [Entry] {
        let ids = try await repository.objects.children(of: "\(repository.cluster)/drills/").prefixes.sorted()
        var entries: [Entry] = []
        for id in ids {
            guard let report = try await report(id) else { continue }
            entries.append(
                Entry(
                    id: id, drill: report.drill, startedAt: report.startedAt, passed: report.passed, rtoSeconds: report.rtoSeconds,
                    rpoSeconds: report.rpoSeconds, reportHTML: link(id, "report.html"), reportJSON: link(id, "report.json")))
        }
        return entries
    }

    /// A report file's path (directory repository) or s3:// URL.
    public func link(_ id: String, _ file: String) -> String {
        let key = "\(repository.cluster)/drills/\(id)/\(file)"
        return repository.objects.localPath(key) ?? "\(location)/\(id)/\(file)"
    }

    /// A report's self-contained HTML page; nil when there is none.
    public func html(_ id: String) async throws -> Data? {
        try await repository.objects.read("\(repository.cluster)/drills/\(id)/report.html")
    }

    public func report(_ id: String) async throws -> DrillReport? {
        guard let data = try await repository.objects.read("\(repository.cluster)/drills/\(id)/report.json") else { return nil }
        do { return try JSONDecoder().decode(DrillReport.self, from: data) } catch {
            throw BackupError.corruptManifest(path: link(id, "report.json"), detail: "\(error)")
        }
    }
}
