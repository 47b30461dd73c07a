import FoundationEssentials

/// The simple HTML page listing a mirror directory, served only with `--mirror-index`.
enum DirectoryIndex {
    /// More entries than this are cut off (the page says so): a listing must stay small.
    static let maximumEntries = 10_000

    /// The page for `directory`, whose URL path (as the guest sent it) is `urlPath`.
    static func page(directory: String, urlPath: String) -> String {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        let base = urlPath.hasSuffix("/") ? urlPath : urlPath + "/"
        var lines = [
            "<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\"><title>Index of \(escape(base))</title></head>",
            "<body><h1>Index of \(escape(base))</h1><ul>", "<li><a href=\"../\">../</a></li>",
        ]
        for name in names.prefix(maximumEntries) {
            var isDirectory = false
            let isFolder = FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory) && isDirectory
            let shown = name + (isFolder ? "/" : "")
            lines.append("<li><a href=\"\(escape(base + encode(name)))\(isFolder ? "/" : "")\">\(escape(shown))</a></li>")
        }
        if names.count > maximumEntries { lines.append("<li>… \(names.count - maximumEntries) more not listed</li>") }
        lines.append("</ul></body></html>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Percent-encodes every byte of a file name but the unreserved ones.
    static func encode(_ name: String) -> String {
        var text = ""
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                text += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return text
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
