/// Reads the few fields drctl needs from S3's XML answers. S3's documents are flat and
/// machine-written (no CDATA, no comments), so element text between a tag and its end is
/// all there is to find; entities are decoded.
enum S3XML {
    /// The text of every `<tag>` element, in document order.
    static func all(_ tag: String, in text: String) -> [String] {
        var found: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "<\(tag)") {
            let afterName = rest[open.upperBound...]
            // `<Key>` or `<LocationConstraint xmlns="...">`, but not `<KeyMarker>`.
            guard let next = afterName.first, next == ">" || next == " " || next == "/" else {
                rest = afterName
                continue
            }
            guard let close = afterName.firstIndex(of: ">") else { break }
            if close > afterName.startIndex, afterName[afterName.index(before: close)] == "/" {  // <tag/>: empty
                found.append("")
                rest = afterName[afterName.index(after: close)...]
                continue
            }
            let body = afterName[afterName.index(after: close)...]
            guard let end = body.range(of: "</\(tag)>") else { break }
            found.append(decode(String(body[..<end.lowerBound])))
            rest = body[end.upperBound...]
        }
        return found
    }

    static func first(_ tag: String, in text: String) -> String? { all(tag, in: text).first }

    /// The raw XML inside every `<tag>` element (e.g. each `<Contents>` of a listing).
    static func blocks(_ tag: String, in text: String) -> [String] {
        var found: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "<\(tag)>"), let end = rest[open.upperBound...].range(of: "</\(tag)>") {
            found.append(String(rest[open.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        return found
    }

    static func decode(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacing("&quot;", with: "\"").replacing("&apos;", with: "'").replacing("&lt;", with: "<").replacing("&gt;", with: ">")
            .replacing("&#34;", with: "\"").replacing("&#39;", with: "'").replacing("&amp;", with: "&")
    }

    static func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
    }
}
