import Foundation

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

    /// A console line as it may be shown: ANSI escape sequences (CSI, OSC and two-byte ones)
    /// and control characters removed, the run token hidden, long lines cut (`ConsoleTail`).
    static func consoleText(_ line: String) -> String {
        var text = line.replacingOccurrences(of: "\u{1B}\\][^\u{07}\u{1B}]*(\u{07}|\u{1B}\\\\)?", with: "", options: .regularExpression)
        // Every other escape sequence but CSI (`ESC [`, which ConsoleTail removes whole):
        // optional intermediates, then one final byte (ESC M, ESC 7, ESC ( B, …).
        text = text.replacingOccurrences(of: "\u{1B}[ -/]*[0-Z\\\\-_a-~]", with: "", options: .regularExpression)
        return ConsoleTail.clean(text)
    }

    /// A query component: everything but unreserved characters percent-encoded.
    static func queryComponent(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
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
