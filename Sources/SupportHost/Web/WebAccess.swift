import FoundationEssentials
import SupportKit

/// Who may look: whoever shows the per-start token, as `?token=` in the URL (the one printed at
/// start), as `Authorization: Bearer TOKEN` (for a Prometheus scraper), or as the cookie set
/// after the first visit, so the token need not stay in the address bar.
struct WebAccess: Sendable {
    let token: RunToken
    /// Per port: two servers on one machine must not take each other's cookie.
    let cookieName: String

    init(token: RunToken, port: Int) {
        self.token = token
        cookieName = "supporthost_token_\(port)"
    }

    enum Verdict: Equatable {
        /// Allowed; `setCookie` when the token came in the URL or a header and no cookie held it.
        case allowed(setCookie: Bool)
        case refused
    }

    func check(query: [String: String], authorization: String?, cookie: String?) -> Verdict {
        let fromCookie = cookie.flatMap(cookieValue).map { token.matches($0) } ?? false
        if fromCookie { return .allowed(setCookie: false) }
        if let given = query["token"], token.matches(given) { return .allowed(setCookie: true) }
        if let authorization, authorization.hasPrefix("Bearer "), token.matches(authorization.dropFirst(7)) {
            return .allowed(setCookie: false)
        }
        return .refused
    }

    var setCookieHeader: String { "\(cookieName)=\(token.value); Path=/; HttpOnly; SameSite=Strict" }

    private func cookieValue(_ header: String) -> String? {
        for part in header.split(separator: ";") {
            let pair = part.trimmingSpaces()
            if pair.hasPrefix(cookieName + "=") { return String(pair.dropFirst(cookieName.count + 1)) }
        }
        return nil
    }
}
