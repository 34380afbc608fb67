import DRCore

/// Just enough XML for Route 53's small, fixed documents: escaping values we write, and
/// reading the text of named elements from its answers. A general XML parser would add a
/// libxml2 dependency for four element names.
enum XMLText {
    static func escape(_ text: String) -> String { MarkupEscaping.escape(text) }

    static func unescape(_ text: Substring) -> String {
        String(text).replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&apos;", with: "'").replacing("&amp;", with: "&")
    }

    /// The inner text of every `<tag>…</tag>` in `xml` (no nesting of the same tag).
    static func elements(_ tag: String, in xml: Substring) -> [Substring] {
        var found: [Substring] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(tag)>"), let close = rest[open.upperBound...].range(of: "</\(tag)>") {
            found.append(rest[open.upperBound..<close.lowerBound])
            rest = rest[close.upperBound...]
        }
        return found
    }

    static func text(_ tag: String, in xml: Substring) -> String? {
        elements(tag, in: xml).first.map(unescape)
    }
}
