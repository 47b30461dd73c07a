import FoundationEssentials

/// Text made safe for a page: everything a guest wrote (console lines, file names, platform
/// values, mirror paths) goes through `escape` on its way into HTML, and console text through
/// `consoleText` first, so no guest byte can open a tag, an attribute or a terminal escape.
enum HTML {
    /// Escapes the five characters that matter in element content and quoted attributes.
    static func escape(_ text: String) -> String {
        // Most text (times, counts, run names) has nothing to escape: returned as it is.
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    // Swift's Regex rather than NSRegularExpression: no Foundation in the host (issue 18). Not
    // Sendable only for its generic output; a constant regex is safe to share (its compiled
    // program is built once, atomically).
    /// An OSC sequence (`ESC ] … BEL` or `ESC ] … ESC \`, or cut off).
    nonisolated(unsafe) private static let operatingSystemCommand = try! Regex("\u{1B}\\][^\u{07}\u{1B}]*(\u{07}|\u{1B}\\\\)?").matchingSemantics(.unicodeScalar)  // a constant pattern
    /// An escape sequence other than CSI: intermediates, then one final byte.
    nonisolated(unsafe) private static let shortEscape = try! Regex("\u{1B}[ -/]*[0-Z\\\\-_a-~]").matchingSemantics(.unicodeScalar)  // a constant pattern

    /// A console line as it may be shown: ANSI escape sequences (CSI, OSC and two-byte ones)
    /// and control characters removed, the run token hidden, long lines cut (`ConsoleTail`).
    static func consoleText(_ line: String) -> String {
        var text = line.replacing(operatingSystemCommand, with: "")
        // Every other escape sequence but CSI (`ESC [`, which ConsoleTail removes whole):
        // optional intermediates, then one final byte (ESC M, ESC 7, ESC ( B, …).
        text = text.replacing(shortEscape, with: "")
        return ConsoleTail.clean(text)
    }

    /// A query component: everything but unreserved characters percent-encoded.
    static func queryComponent(_ text: String) -> String {
        percentEncoded(text, keeping: "-._~/")
    }

    /// `text` as UTF-8 with every byte but ASCII letters, digits and `keeping` percent-encoded.
    static func percentEncoded(_ text: String, keeping: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        let kept = Set(keeping.utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            let plain = (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || kept.contains(byte)
            if plain { out.append(byte) } else { out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]] }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A whole page: the shared stylesheet and script, a title and a body (already escaped).
    static func page(title: String, body: String, script: Bool = false) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <link rel="stylesheet" href="/static/web.css">
        \(script ? "<script src=\"/static/web.js\" defer></script>" : "")
        </head>
        <body>
        <header><a href="/">SupportHost runs</a></header>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }
}
