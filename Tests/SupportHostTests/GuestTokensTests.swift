import Foundation
import PluginAPI
import Testing

@testable import SupportHost

/// The pieces of a run of several guests that need no process: which guest a token names, and
/// each guest's own activity clock.
struct GuestTokensTests {
    static let tokens = GuestTokens([
        GuestTokens.Entry(guest: "a", token: RunToken(value: "aaaaaaaaaaaaaaaa")),
        GuestTokens.Entry(guest: "b", token: RunToken(value: "bbbbbbbbbbbbbbbb")),
    ])

    @Test func aTokenNamesItsGuest() {
        guard case .allowed(let path, let guest) = Self.tokens.check(path: "/t/bbbbbbbbbbbbbbbb/result.txt", authorization: nil) else {
            Issue.record("b's token was refused")
            return
        }
        #expect(path == "/result.txt")
        #expect(guest == "b")
        guard case .allowed(_, let bearer) = Self.tokens.check(path: "/", authorization: "Bearer aaaaaaaaaaaaaaaa") else {
            Issue.record("a's bearer token was refused")
            return
        }
        #expect(bearer == "a")
    }

    @Test func anUnknownTokenOrNoneIsRefused() {
        guard case .refused(let recorded) = Self.tokens.check(path: "/t/cccccccccccccccc/x", authorization: nil) else {
            Issue.record("an unknown token was let in")
            return
        }
        #expect(recorded == "/t/…/x")
        guard case .refused = Self.tokens.check(path: "/x", authorization: nil) else {
            Issue.record("a request without a token was let in")
            return
        }
    }

    @Test func digestsOnlyStillNameTheGuest() {
        let resumed = GuestTokens(Self.tokens.entries.map { GuestTokens.Entry(guest: $0.guest, token: RunToken(digestHex: $0.token.digestHex)!) })
        guard case .allowed(_, let guest) = resumed.check(path: "/t/aaaaaaaaaaaaaaaa/", authorization: nil) else {
            Issue.record("a's token was refused after a resume")
            return
        }
        #expect(guest == "a")
    }

    @Test func oneGuestsActivityMovesOnlyItsOwnClock() async throws {
        let activity = Activity(clock: RunClock(), guests: ["a", "b"])
        let before = (activity.lastActivity(of: "a"), activity.lastActivity(of: "b"))
        try await Task.sleep(for: .milliseconds(20))
        activity.touch(guest: "a")
        #expect(activity.lastActivity(of: "a") > before.0)
        #expect(activity.lastActivity(of: "b") == before.1)
        try await Task.sleep(for: .milliseconds(20))
        activity.request("GET", "/", guest: "b")
        #expect(activity.lastActivity(of: "b") > before.1)
        #expect(activity.last(of: "b")?.description == "GET /")
        #expect(activity.last(of: "a") == nil)
    }
}

/// The run page of a run of several guests: a section per guest, everything a guest wrote escaped.
struct GuestConsolesPageTests {
    @Test func eachGuestHasItsSectionAndItsConsoleIsEscaped() {
        let page = RunPage.guestConsoles([
            ["name": "server", "role": "server", "essential": true, "console_tail": ["<script>alert(1)</script>"]],
            ["name": "client", "essential": false, "failed": "guest failed: exit status 3", "console_tail": []],
        ])
        #expect(page.contains("<h3 class=\"guest\">server</h3>"))
        #expect(page.contains("role server"))
        #expect(page.contains("not essential · failed: guest failed: exit status 3"))
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;"))
    }
}
