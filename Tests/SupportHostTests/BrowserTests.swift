import Foundation
import PluginAPI
import Testing

/// The web view in a real browser: Debian's headless chromium, by `--dump-dom` and by
/// chromedriver (WebDriver). Serialized: one browser at a time on a small machine.
@Suite(.enabled(if: Needs.curl && Needs.chromium, Needs.chromiumHint), .serialized)
struct BrowserTests {
    @Test func chromiumShowsTheRunsListWithAFinishedAndARunningRun() async throws {
        let root = Fixtures.temporaryDirectory("browser-list")
        _ = try await WebFixtures.hostileRun(root.appendingPathComponent("finished-run"))
        let (live, scratch) = try await LiveGuest.start(root.appendingPathComponent("live-run"))
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        let dom = try WebDriver.dumpDOM(serve.url)
        #expect(dom.contains("<title>Runs</title>"), "\(dom.prefix(400))")
        #expect(dom.contains("href=\"/run?dir=finished-run\"") && dom.contains("href=\"/run?dir=live-run\""))
        #expect(dom.contains(">completed</td>") && dom.contains(">running</td>"))
        #expect(await LiveGuest.stop(live, scratch: scratch) == 0)
    }

    @Test func aConsoleLinePrintedAfterThePageLoadedAppearsWithinTwoSeconds() async throws {
        let root = Fixtures.temporaryDirectory("browser-live")
        let (live, scratch) = try await LiveGuest.start(root.appendingPathComponent("live"))
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        let browser = try await WebDriver()
        defer { browser.quit() }
        try browser.open("http://127.0.0.1:\(serve.port)/run?dir=live&token=\(serve.token)")
        let opened = browser.wait(timeout: 10, "return document.getElementById('live').getAttribute('data-open')") { $0 == "1" }
        #expect(opened != nil, "the page's EventSource never opened")
        let marker = "printed after load \(UUID().uuidString)"
        try LiveGuest.say(marker, in: scratch)
        let took = browser.wait(timeout: 5, "return document.getElementById('console').textContent") { $0.stringValue?.contains(marker) == true }
        #expect(took != nil && took! < 2, "took \(took.map { String($0) } ?? "more than 5") s")
        Fixtures.note("browser: console line on the page after \(took ?? -1) s")
        // A hostile line arriving live is text too.
        try LiveGuest.say(WebFixtures.scriptPayload + " " + WebFixtures.attributePayload, in: scratch)
        #expect(browser.wait(timeout: 5, "return document.getElementById('console').textContent") { $0.stringValue?.contains(WebFixtures.attributePayload) == true } != nil)
        let flags = try browser.run("return [typeof window.pwned, document.title, document.images.length]")
        #expect(flags == ["undefined", "Run live", 0])
        #expect(await LiveGuest.stop(live, scratch: scratch) == 0)
        #expect(browser.wait(timeout: 10, "return document.getElementById('outcome').textContent") { $0.stringValue?.hasPrefix("completed") == true } != nil)
    }

    @Test func aGuestsXSSPayloadRunsNoScriptInTheBrowser() async throws {
        let root = Fixtures.temporaryDirectory("browser-xss")
        _ = try await WebFixtures.hostileRun(root.appendingPathComponent("run-a"))
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        let browser = try await WebDriver()
        defer { browser.quit() }
        try browser.open("http://127.0.0.1:\(serve.port)/run?dir=run-a&token=\(serve.token)")
        let flags = try browser.run("return [typeof window.pwned, document.title, document.images.length, document.getElementById('console').textContent]")
        #expect(flags.arrayValue?.prefix(3).map { $0 } == ["undefined", "Run run-a", 0])
        let console = flags.arrayValue?.last?.stringValue ?? ""
        #expect(console.contains(WebFixtures.scriptPayload) && console.contains(WebFixtures.attributePayload))
        #expect(console.contains("red-text after-osc") && !console.contains("evil-title"))
        let page = try browser.run("return document.body.innerText")
        #expect(page.stringValue?.contains("/usr/bin/" + WebFixtures.scriptPayload) == true)
    }

    @Test func chromiumShowsTheMatrixGrid() async throws {
        let output = Fixtures.temporaryDirectory("browser-matrix").appendingPathComponent("matrix-out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let plan: JSONValue = ["dists": ["/d/Dist-A-1.0.tar.gz", "/d/Dist-B-2.0.tar.gz"], "guests": ["local", "qemu:x86_64"], "output": .string(output.path), "settings": [:]]
        try plan.encoded(pretty: true).write(to: output.appendingPathComponent("plan.json"))
        _ = try await WebFixtures.hostileRun(output.appendingPathComponent("cells/Dist-A-1.0.tar.gz/local"))
        _ = try await WebFixtures.missingResultRun(output.appendingPathComponent("cells/Dist-B-2.0.tar.gz/local"))
        let serve = try await ServeProcess.start(output)
        defer { Task { await serve.stop() } }
        let dom = try WebDriver.dumpDOM("http://127.0.0.1:\(serve.port)/matrix?token=\(serve.token)")
        #expect(dom.contains("<table class=\"grid\">"), "\(dom.prefix(600))")
        #expect(dom.contains("<th>Dist-A-1.0.tar.gz</th>") && dom.contains("<th>Dist-B-2.0.tar.gz</th>"))
        #expect(dom.contains("<th>local</th>") && dom.contains("<th>qemu:x86_64</th>"))
        #expect((dom.contains("class=\"cell g-fail\"") || dom.contains("class=\"cell g-unknown\"")) && dom.contains(">results-missing</a>") && dom.contains("class=\"cell g-notrun\""))
        #expect(dom.components(separatedBy: "<td id=\"cell-").count == 5)
    }
}
