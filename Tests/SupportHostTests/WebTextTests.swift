import Foundation
import Testing

@testable import SupportHost

/// The web view's small pure parts: escaping, console cleaning, stream positions, access.
struct WebTextTests {
    @Test func escapingCoversTheFiveCharactersThatOpenMarkup() {
        #expect(HTML.escape(#"<a href="x" title='y'>&</a>"#) == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
        #expect(HTML.escape("plain text, 12 s") == "plain text, 12 s")
        #expect(HTML.escape("ünïcödé ✓") == "ünïcödé ✓")
    }

    @Test func consoleTextLosesEscapeSequencesAndControlCharacters() {
        #expect(HTML.consoleText("\u{1B}[1;31mred\u{1B}[0m") == "red")
        #expect(HTML.consoleText("a\u{1B}]0;title\u{07}b") == "ab")
        #expect(HTML.consoleText("a\u{1B}]8;;http://x\u{1B}\\link\u{1B}]8;;\u{1B}\\b") == "alinkb")
        #expect(HTML.consoleText("a\u{1B}Mb\u{1B}7c\u{1B}(Bd") == "abcd")
        #expect(HTML.consoleText("bell\u{07} nul\u{00} del\u{7F}\tkept") == "bell nul del\tkept")
        #expect(HTML.consoleText("GET /t/0123456789abcdef0123 HTTP") == "GET /t/{token} HTTP")
    }

    @Test func aStreamPositionIsReadBackOrRefused() {
        #expect(StreamPosition("3903-15-293") == StreamPosition(journalOffset: 3903, nextSeq: 15, consoleOffset: 293))
        #expect(StreamPosition(StreamPosition(journalOffset: 1, nextSeq: 2, consoleOffset: 3).text)?.consoleOffset == 3)
        for junk in ["", "1-2", "1-0-3", "-1-2-3", "a-b-c", "1-2-3-4", "99999999999999999999-1-1", "１-2-3"] {
            #expect(StreamPosition(junk) == nil, "\(junk)")
        }
    }

    @Test func accessComesFromTheCookieTheURLOrTheBearerHeader() {
        let access = WebAccess(token: RunToken(value: "0123456789abcdef0123456789abcdef"), port: 8080)
        let token = "0123456789abcdef0123456789abcdef"
        #expect(access.check(query: [:], authorization: nil, cookie: nil) == .refused)
        #expect(access.check(query: ["token": token], authorization: nil, cookie: nil) == .allowed(setCookie: true))
        #expect(access.check(query: [:], authorization: "Bearer " + token, cookie: nil) == .allowed(setCookie: false))
        #expect(access.check(query: [:], authorization: nil, cookie: "a=b; supporthost_token_8080=" + token) == .allowed(setCookie: false))
        #expect(access.check(query: [:], authorization: nil, cookie: "supporthost_token_8081=" + token) == .refused)
        #expect(access.check(query: ["token": token + "x"], authorization: "Bearer x", cookie: "supporthost_token_8080=y") == .refused)
        #expect(access.setCookieHeader.contains("HttpOnly") && access.setCookieHeader.contains("SameSite=Strict"))
    }

    @Test func aDownloadNameCannotBreakItsHeader() {
        let header = WebHandler.attachment("a\"b\r\nX-Evil: 1;ü.txt")
        #expect(!header.contains("\r") && !header.contains("\n"))
        #expect(header.hasPrefix("attachment; filename=\"a_b__X-Evil: 1;_.txt\""))
        #expect(header.hasSuffix("filename*=UTF-8''a%22b%0D%0AX-Evil%3A%201%3B%C3%BC.txt"))
    }

    @Test func metricLabelsAreEscapedAsTheTextFormatWants() {
        #expect(Metrics.label("a\"b\\c\nd") == #"a\"b\\c\nd"#)
        #expect(Metrics.number(300) == "300" && Metrics.number(0.25) == "0.25")
    }

    @Test func theGuestKindIsToldFromTheProgram() {
        #expect(ServedRun.guestKind(["/usr/bin/qemu-system-x86_64", "-m", "256"]) == "qemu x86_64")
        #expect(ServedRun.guestKind(["env", "A=1", "timeout", "60", "podman", "run"]) == "container (podman)")
        #expect(ServedRun.guestKind(["./guest.sh"]) == "process")
        #expect(ServedRun.guestKind([]) == "-")
    }
}
