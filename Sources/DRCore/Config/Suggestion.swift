/// "Did you mean …?" for misspelt keys and words, by edit distance.
enum Suggestion {
    /// ` (did you mean "x"?)` when a candidate is within two edits, else empty.
    static func hint(for word: String, among candidates: [String]) -> String {
        let best =
            candidates
            .map { ($0, distance(word.lowercased(), $0.lowercased())) }
            .filter { $0.1 <= 2 && $0.1 < max(word.count, 2) }
            .min { $0.1 < $1.1 }
        return best.map { " (did you mean \"\($0.0)\"?)" } ?? ""
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
