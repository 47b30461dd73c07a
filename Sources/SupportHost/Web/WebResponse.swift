import FoundationEssentials
import NIOHTTP1

/// What the router answers: a page or other bytes, a file to download, or an event stream.
enum WebResponse {
    case bytes(status: HTTPResponseStatus, contentType: String, body: [UInt8], headers: [(String, String)] = [])
    /// A result file: sent as an attachment, never rendered.
    case download(path: String, name: String, size: Int)
    case events(any WebEventSource)

    static func html(_ text: String, status: HTTPResponseStatus = .ok) -> WebResponse {
        .bytes(status: status, contentType: "text/html; charset=utf-8", body: Array(text.utf8))
    }

    static func text(_ text: String, status: HTTPResponseStatus) -> WebResponse {
        .bytes(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    /// A plain error page: the message says what to do.
    static func problem(_ status: HTTPResponseStatus, _ message: String) -> WebResponse {
        html(HTML.page(title: "\(status.code) \(status.reasonPhrase)", body: "<h1>\(status.code) \(HTML.escape(status.reasonPhrase))</h1>\n<p>\(HTML.escape(message))</p>"), status: status)
    }

    /// Sent with every answer: no inline script or style can run, nothing is sniffed, framed,
    /// cached or leaked by a referrer.
    static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy",
         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Cache-Control", "no-store"),
    ]
}
