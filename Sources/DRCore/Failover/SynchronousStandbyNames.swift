/// `synchronous_standby_names` as drctl writes and reads it: `ANY 1 ("a", "b")` — a
/// commit waits for any one of the listed standbys — or empty for asynchronous.
public enum SynchronousStandbyNames {
    public static func format(_ standbys: [String]) -> String {
        guard !standbys.isEmpty else { return "" }
        // `*` quoted would be a standby named "*": the wildcard stays bare.
        return "ANY 1 (" + standbys.map { $0 == "*" ? "*" : "\"\($0.replacing("\"", with: "\"\""))\"" }.joined(separator: ", ") + ")"
    }

    /// The standby names in any of PostgreSQL's forms (`a, b`, `FIRST 1 (a)`, `ANY 1 ("a")`),
    /// sorted; `*` is kept as a name.
    public static func parse(_ text: String) -> [String] {
        var list = Substring(text)
        if let open = list.firstIndex(of: "("), let close = list.lastIndex(of: ")"), open < close {
            list = list[list.index(after: open)..<close]
        }
        return list.split(separator: ",")
            .map { $0.trimming(" \"") }
            .filter { !$0.isEmpty }
            .sorted()
    }
}
