import CSpawn
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A network namespace made by `ip netns add NAME` (bound at `/run/netns/NAME`).
public enum NetworkNamespace {
    public static func path(_ name: String) -> String { "/run/netns/\(name)" }

    /// Moves the calling thread into namespace `name`: sockets it opens afterwards, and the
    /// threads it starts, live there. Call it first thing on a thread of one's own (a
    /// `Thread`, never a task of Swift's cooperative pool, whose threads are shared).
    public static func enter(_ name: String) throws {
        let fd = open(path(name), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.io("cannot open network namespace \(name): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard drctl_setns_net(fd) == 0 else { throw SystemError.io("cannot enter network namespace \(name): \(String(cString: strerror(errno)))") }
    }

    /// The namespaces `ip netns` lists whose names start with `prefix`.
    public static func list(prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []).filter { $0.hasPrefix(prefix) }.sorted()
    }
}
