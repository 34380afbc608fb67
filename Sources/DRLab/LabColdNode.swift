import DRCore
import DRSystem
import Foundation

extension Lab {
    /// Gives the cold region (region3) a node, `pg3` on 127.0.3.1 with an empty data
    /// directory, and starts region3's agent: the node `region activate` restores into.
    /// The config and lab.json are rewritten, so `lab down` stops both. Returns the node.
    public static func addColdNode(dir: String, binary: String) async throws -> LabState.Node {
        var state = try LabState.load(dir: absolute(dir))
        if let existing = state.nodes.first(where: { $0.region == "region3" }) { return existing }
        let host = "127.0.3.1"
        let port = try PortAllocator.freePort(on: host, avoiding: Set(state.nodes.map(\.port)))
        let node = LabState.Node(
            name: "pg3", region: "region3", host: host, port: port, dataDir: "\(state.dir)/region3/pg3/data",
            logFile: "\(state.dir)/region3/pg3/postgres.log")
        let agent = LabState.Agent(
            region: "region3", stateDir: "\(state.dir)/agents/region3", logFile: "\(state.dir)/agents/region3/agent.log",
            pidFile: "\(state.dir)/agents/region3/agent.pid", apiHost: host, apiPort: try PortAllocator.freePort(on: host, avoiding: [port]))
        try FileManager.default.createDirectory(atPath: "\(state.dir)/region3/pg3", withIntermediateDirectories: true)
        state.nodes.append(node)
        state.agents.append(agent)
        try state.save()
        try LabConfigFile.render(state).write(toFile: state.configFile, atomically: true, encoding: .utf8)
        _ = try ConfigLoader.load(yaml: try String(contentsOfFile: state.configFile, encoding: .utf8), file: state.configFile)
        _ = try LabAgents.launch(agent, state, binary: binary)
        return node
    }
}
