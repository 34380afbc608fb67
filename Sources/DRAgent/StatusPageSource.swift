import DRBackup
import DRCore
import DRDrill
import FlyingFox
import Foundation

/// The agent's status page (`GET /`) and the drill reports it links to
/// (`GET /drills/ID/report.html`), answered from memory: the serving node's last view of
/// the cluster and the evidence the scheduler last listed. Nothing here waits for etcd or
/// the repository at request time except a report's own page, so the page still answers
/// — showing its age — when etcd is down.
public struct StatusPageSource: Sendable {
    let live: LiveConfig
    var config: ClusterConfig { live.value }
    let node: String
    let board: AgentStateBoard

    public init(config: LiveConfig, node: String, board: AgentStateBoard) {
        self.live = config
        self.node = node
        self.board = board
    }

    /// The answer for `path`, or nil when the path is not the page's.
    func answer(_ path: String) async -> FlyingFox.HTTPResponse? {
        if path == "/" || path == "/index.html" {
            return Self.html(200, StatusPage.render(StatusPageModel(inputs(now: Date()))))
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.count == 3, parts[0] == "drills", parts[2] == "report.html" else { return nil }
        // Only reports the repository listed: the ID never becomes an arbitrary key.
        guard board.repository.drills.contains(where: { $0.id == parts[1] }), config.backup != nil,
            let repository = try? BackupRepository(config: config),
            let page = try? await DrillReports(repository: repository).html(parts[1])
        else { return Self.html(404, "<!DOCTYPE html><p>No such drill report.</p><p><a href=\"/\">Status</a></p>") }
        return FlyingFox.HTTPResponse(statusCode: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: page)
    }

    func inputs(now: Date) -> StatusPageModel.Inputs {
        let sighting = board.sighting(of: node)
        let evidence = board.repository
        return StatusPageModel.Inputs(
            config: config, servedBy: node, now: now, snapshot: sighting?.snapshot, etcdReachable: sighting?.etcdReachable ?? false,
            history: evidence.failovers, dns: sighting?.dns ?? [:], backups: evidence.backups, drills: evidence.drills)
    }

    static func html(_ code: Int, _ text: String) -> FlyingFox.HTTPResponse {
        FlyingFox.HTTPResponse(
            statusCode: HTTPStatusCode(code, phrase: code == 200 ? "OK" : "Not Found"),
            headers: [.contentType: "text/html; charset=utf-8", HTTPHeader("Cache-Control"): "no-store"], body: Data(text.utf8))
    }
}
