import Foundation
import PluginAPI
import Testing

/// `support-host serve` through the real binary: real runs, a real listener, plain sockets.
@Suite(.enabled(if: Needs.curl, Needs.curlHint))
struct WebViewTests {
    @Test func requestsWithoutTheTokenAreRefusedAndTheFirstVisitSetsACookie() async throws {
        let root = Fixtures.temporaryDirectory("web-token")
        _ = try await WebFixtures.hostileRun(root.appendingPathComponent("run-a"))
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        for target in ["/", "/metrics", "/run?dir=run-a", "/static/web.js", "/?token=0123456789abcdef0123456789abcdef"] {
            let refused = try RawHTTP.send(port: serve.port, "GET", target)
            #expect(refused.status == 403, "\(target)")
            #expect(refused.header("Set-Cookie") == nil)
        }
        let wrongBearer = try RawHTTP.send(port: serve.port, "GET", "/", headers: [("Authorization", "Bearer nope")])
        #expect(wrongBearer.status == 403)

        let first = try RawHTTP.send(port: serve.port, "GET", "/?token=\(serve.token)")
        #expect(first.status == 200)
        let cookie = try #require(first.header("Set-Cookie"))
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
        let pair = String(cookie.split(separator: ";")[0])
        let withCookie = try RawHTTP.send(port: serve.port, "GET", "/run?dir=run-a", headers: [("Cookie", "other=1; " + pair)])
        #expect(withCookie.status == 200)
        #expect(withCookie.header("Set-Cookie") == nil)
        let wrongCookie = try RawHTTP.send(port: serve.port, "GET", "/", headers: [("Cookie", pair.prefix { $0 != "=" } + "=0000")])
        #expect(wrongCookie.status == 403)
        #expect(try serve.get("/metrics").status == 200)
    }

    @Test func runsListShowsAFinishedAndARunningRunAndFiltersByOutcome() async throws {
        let root = Fixtures.temporaryDirectory("web-list")
        let finished = try await WebFixtures.hostileRun(root.appendingPathComponent("finished-run"))
        #expect(finished.status == 0, "\(finished.stderr)")
        let (live, scratch) = try await LiveGuest.start(root.appendingPathComponent("live-run"))
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        let page = try serve.page("/")
        #expect(page.contains("href=\"/run?dir=finished-run\""))
        #expect(page.contains("href=\"/run?dir=live-run\""))
        #expect(page.contains(">completed</td>"))
        #expect(page.contains(">running</td>"))
        // newest first: the live run started later
        let liveAt = try #require(page.range(of: "dir=live-run")).lowerBound
        let finishedAt = try #require(page.range(of: "dir=finished-run")).lowerBound
        #expect(liveAt < finishedAt)
        let running = try serve.page("/?outcome=running")
        #expect(running.contains("dir=live-run") && !running.contains("dir=finished-run"))
        let completed = try serve.page("/?outcome=completed")
        #expect(!completed.contains("dir=live-run") && completed.contains("dir=finished-run"))
        #expect(await LiveGuest.stop(live, scratch: scratch) == 0)
        #expect(try serve.page("/?outcome=completed").contains("dir=live-run"))
    }

    @Test func aResultDownloadsAsAnAttachmentThatIsNeverSniffed() async throws {
        let root = Fixtures.temporaryDirectory("web-download")
        _ = try await WebFixtures.hostileRun(root.appendingPathComponent("run-a"))
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        let page = try serve.page("/run?dir=run-a")
        #expect(page.contains("href=\"/download?dir=run-a&amp;file=result.txt\""))
        #expect(page.contains(Fixtures.sha256(Data("the result\n".utf8))))
        let download = try serve.get("/download?dir=run-a&file=result.txt")
        #expect(download.status == 200)
        #expect(download.body == Data("the result\n".utf8))
        #expect(download.header("Content-Disposition")?.hasPrefix("attachment; filename=\"result.txt\"") == true)
        #expect(download.header("X-Content-Type-Options") == "nosniff")
        #expect(download.header("Content-Type") == "application/octet-stream")
    }

    @Test func downloadsNeverLeaveTheRunsResultsDirectory() async throws {
        let root = Fixtures.temporaryDirectory("web-traversal")
        let runDir = root.appendingPathComponent("run-a")
        _ = try await WebFixtures.hostileRun(runDir)
        let secret = root.appendingPathComponent("secret.txt")
        try Data("secret".utf8).write(to: secret)
        // A link in results/ that leads out: refused even though it is in the directory.
        try FileManager.default.createSymbolicLink(at: runDir.appendingPathComponent("results/link.txt"), withDestinationURL: secret)
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        var targets = TraversalAttacks.paths(prefix: "x", target: "journal.log").map { Array("/download?dir=run-a&file=".utf8) + $0 }
        targets += ["../journal.log", "..%2Fjournal.log", "%2E%2E%2Fjournal.log", "/etc/passwd", "%2Fetc%2Fpasswd", "link.txt", "results/result.txt",
                    "..%2F..%2Fsecret.txt", "", "result.txt%00"].map { Array("/download?dir=run-a&file=\($0)".utf8) }
        targets += ["..", "../..", "run-a/..", "%2E%2E", "/etc", "%2Fetc", "run-a/results", "run-a%2F..%2F.."].map { Array("/download?dir=\($0)&file=result.txt".utf8) }
        for target in targets {
            let response = try RawHTTP.send(port: serve.port, "GET", target, headers: [serve.bearer])
            let shown = String(decoding: target, as: UTF8.self)
            #expect(response.status == 404 || response.status == 400, "\(shown) → \(response.status)")
            #expect(!response.body.starts(with: Data("secret".utf8)), "\(shown)")
            #expect(response.header("Content-Disposition") == nil, "\(shown)")
        }
    }

    @Test func aGuestsScriptMarkupAndEscapesAreShownAsTextOnly() async throws {
        let root = Fixtures.temporaryDirectory("web-xss")
        _ = try await WebFixtures.hostileRun(root.appendingPathComponent("run-a"))
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        let response = try serve.get("/run?dir=run-a")
        let page = String(decoding: response.body, as: UTF8.self)
        let policy = try #require(response.header("Content-Security-Policy"))
        #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"))
        #expect(page.contains(HTMLText.escape(WebFixtures.scriptPayload)))
        #expect(page.contains(HTMLText.escape(WebFixtures.attributePayload)))
        #expect(page.contains(HTMLText.escape("/usr/bin/" + WebFixtures.scriptPayload)))
        #expect(page.contains("X&lt;b&gt;KEY"))
        #expect(!page.contains("<script>window"))
        #expect(!page.contains("<img"))
        #expect(!page.contains("onerror=\"window"))
        #expect(page.components(separatedBy: "<script").count == 1, "a finished run's page has no script at all")
        #expect(!page.contains("\u{1B}") && !page.contains("\u{07}"))
        #expect(page.contains("red-text after-osc"))
        #expect(!page.contains("evil-title"))
        for target in ["/", "/metrics"] { #expect(!(try serve.page(target)).contains("<script>window")) }
    }

    @Test func aLiveRunsNewConsoleLineArrivesOnItsEventStream() async throws {
        let root = Fixtures.temporaryDirectory("web-sse")
        let (live, scratch) = try await LiveGuest.start(root.appendingPathComponent("live"))
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        let page = try serve.page("/run?dir=live")
        #expect(page.contains("data-events=\"/events?dir=live&amp;from="))
        #expect(page.contains("<script src=\"/static/web.js\" defer></script>"))
        let events = String(page.split(separator: "\"").first { $0.hasPrefix("/events?") } ?? "").replacingOccurrences(of: "&amp;", with: "&")
        let client = try EventStreamClient(port: serve.port, target: events, headers: [serve.bearer])
        #expect(client.wait(timeout: 10) { $0.contains("text/event-stream") && $0.contains("retry: 1000") } != nil)
        let marker = "hello from the guest <b>\(UUID().uuidString)</b>"
        try LiveGuest.say(marker, in: scratch)
        let took = client.wait(timeout: 5) { $0.contains(Self.jsonText(marker)) }
        #expect(took != nil, "\(client.received.suffix(600))")
        // A result stored while the page is open arrives as a row with its download link.
        let temporary = scratch.appendingPathComponent("put.tmp")
        try Data("late result\n".utf8).write(to: temporary)
        try FileManager.default.moveItem(at: temporary, to: scratch.appendingPathComponent("put"))
        let row = #""href":"/download?dir=live&file=late.txt","name":"late.txt","path":"/late.txt","sha256":""# + Fixtures.sha256(Data("late result\n".utf8))
        #expect(client.wait(timeout: 10) { $0.contains(row) } != nil, "\(client.received.suffix(600))")
        #expect(await LiveGuest.stop(live, scratch: scratch) == 0)
        #expect(client.wait(timeout: 10) { $0.contains("event: end") } != nil)
        #expect(client.received.contains("\"outcome\":\"completed\""))
    }

    @Test func aReconnectingClientResumesFromLastEventID() async throws {
        let root = Fixtures.temporaryDirectory("web-resume")
        let (live, scratch) = try await LiveGuest.start(root.appendingPathComponent("live"))
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        let first = try EventStreamClient(port: serve.port, target: "/events?dir=live", headers: [serve.bearer])
        let before = "before the drop \(UUID().uuidString)"
        try LiveGuest.say(before, in: scratch)
        #expect(first.wait(timeout: 10) { $0.contains(before) } != nil)
        let lastID = try #require(first.eventIDs.last)
        let missed = "while away \(UUID().uuidString)"
        try LiveGuest.say(missed, in: scratch)
        _ = await Fixtures.eventually(timeout: 10) { RunFiles(url: root.appendingPathComponent("live")).console.contains(missed) }
        let second = try EventStreamClient(port: serve.port, target: "/events?dir=live", headers: [serve.bearer, ("Last-Event-ID", lastID)])
        #expect(second.wait(timeout: 10) { $0.contains(missed) } != nil)
        #expect(!second.received.contains(before), "resumed after \(lastID), not from the start")
        #expect(!second.received.contains("\"run-prepared\""))
        #expect(await LiveGuest.stop(live, scratch: scratch) == 0)
    }

    @Test func aTornLastJournalRecordIsNotShownUntilItIsWhole() async throws {
        let root = Fixtures.temporaryDirectory("web-torn")
        let runDir = root.appendingPathComponent("run-a")
        _ = try await WebFixtures.missingResultRun(runDir)
        // Make the run look live and torn: no report, and the outcome record cut in half.
        let journal = RunFiles(url: runDir).journal
        try FileManager.default.removeItem(at: runDir.appendingPathComponent("report.json"))
        let lines = journal.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let body = Data(lines.dropLast(2).joined(separator: [UInt8(ascii: "\n")])) + Data([UInt8(ascii: "\n")])
        let last = Data(lines[lines.count - 2]) + Data([UInt8(ascii: "\n")])
        try (body + last.prefix(last.count / 2)).write(to: runDir.appendingPathComponent("journal.log"))
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        let page = try serve.page("/run?dir=run-a")
        #expect(page.contains("running: no outcome yet"))
        let client = try EventStreamClient(port: serve.port, target: "/events?dir=run-a", headers: [serve.bearer])
        #expect(client.wait(timeout: 10) { $0.contains("\"guest-exited\"") } != nil)
        #expect(client.wait(timeout: 0.5) { $0.contains("\"outcome\":") } == nil, "half a record is never shown")
        let handle = try FileHandle(forWritingTo: runDir.appendingPathComponent("journal.log"))
        try handle.seekToEnd()
        try handle.write(contentsOf: last.suffix(from: last.startIndex + last.count / 2))
        try handle.close()
        #expect(client.wait(timeout: 10) { $0.contains("\"outcome\":\"results-missing\"") } != nil)
    }

    @Test(.enabled(if: Needs.prometheusClient, Needs.prometheusClientHint))
    func metricsParseAsPrometheusTextAndMatchTheReports() async throws {
        let root = Fixtures.temporaryDirectory("web-metrics")
        _ = try await WebFixtures.hostileRun(root.appendingPathComponent("a"))
        _ = try await WebFixtures.missingResultRun(root.appendingPathComponent("b"))
        let (live, scratch) = try await LiveGuest.start(root.appendingPathComponent("c"))
        // The live run's ping is in its journal (records reach the file within a second).
        #expect(await Fixtures.eventually(timeout: 10) { RunFiles(url: root.appendingPathComponent("c")).journalText.contains("\"kind\":\"request\"") })
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        let response = try serve.get("/metrics")
        #expect(response.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let samples = try Self.parsePrometheus(response.body)
        let reports = try ["a", "b"].map { try RunFiles(url: root.appendingPathComponent($0)).report }
        #expect(samples[#"supporthost_runs{"state": "running"}"#] == 1)
        #expect(samples[#"supporthost_runs{"state": "finished"}"#] == 2)
        #expect(samples[#"supporthost_runs_finished_total{"outcome": "completed"}"#] == 1)
        #expect(samples[#"supporthost_runs_finished_total{"outcome": "results-missing"}"#] == 1)
        let durations = reports.compactMap { $0["duration"]?.doubleValue }
        #expect(samples["supporthost_run_duration_seconds_count{}"] == 2)
        #expect(abs((samples["supporthost_run_duration_seconds_sum{}"] ?? -1) - durations.reduce(0, +)) < 1e-6)
        #expect(samples[#"supporthost_run_duration_seconds_bucket{"le": "+Inf"}"#] == 2)
        var statuses: [String: Double] = [:]
        var bytesIn = 0.0
        var bytesOut = 0.0
        for report in reports {
            for (status, count) in report["requests"]?["by_status"]?.objectValue ?? [:] { statuses[status, default: 0] += Double(count.intValue ?? 0) }
            let outcome = report["timeline"]?.arrayValue?.last { $0["event"] == "outcome" }
            bytesIn += Double(outcome?["bytes_in"]?.intValue ?? 0)
            bytesOut += Double(outcome?["bytes_out"]?.intValue ?? 0)
        }
        // The live run has made one ping so far; its requests count too.
        statuses["200", default: 0] += 1
        for (status, count) in statuses { #expect(samples["supporthost_requests_total{\"status\": \"\(status)\"}"] == count, "\(status)") }
        #expect(samples["supporthost_received_bytes_total{}"] == bytesIn)
        #expect(samples["supporthost_sent_bytes_total{}"] == bytesOut)
        #expect(samples["supporthost_mirror_requests_total{}"] == 0)
        #expect(samples["supporthost_guest_boot_to_ping_seconds_count{}"] == 3)
        #expect(await LiveGuest.stop(live, scratch: scratch) == 0)
    }

    @Test func theMatrixPageShowsTheGridAndFollowsARunningCell() async throws {
        let output = Fixtures.temporaryDirectory("web-matrix").appendingPathComponent("matrix-out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let plan: JSONValue = ["dists": ["/dists/Dist-A-1.0.tar.gz", "/dists/Dist-B-2.0.tar.gz"], "guests": ["local", "qemu:x86_64"], "output": .string(output.path), "settings": [:]]
        try plan.encoded(pretty: true).write(to: output.appendingPathComponent("plan.json"))
        _ = try await WebFixtures.hostileRun(output.appendingPathComponent("cells/Dist-A-1.0.tar.gz/local"))
        let (live, scratch) = try await LiveGuest.start(output.appendingPathComponent("cells/Dist-B-2.0.tar.gz/local"))
        let serve = try await ServeProcess.start(output.deletingLastPathComponent())
        defer { Task { await serve.stop() } }
        #expect(try serve.page("/").contains("href=\"/matrix?dir=matrix-out\""))
        let page = try serve.page("/matrix?dir=matrix-out")
        #expect(page.contains("<table class=\"grid\">"))
        #expect(page.contains("<th>Dist-A-1.0.tar.gz</th>") && page.contains("<th>qemu:x86_64</th>"))
        // Completed, and no test report in it: shown as the matrix grades it (FAIL or UNKNOWN:
        // MatrixGrade's policy for a run that tested nothing).
        let ungraded = ["g-fail", "g-unknown"].map { "<td id=\"cell-0\" class=\"cell \($0)\"><a href=\"/run?dir=matrix-out/cells/Dist-A-1.0.tar.gz/local\"" }
        #expect(ungraded.contains { page.contains($0) }, "\(page)")
        #expect(page.contains("<td id=\"cell-1\" class=\"cell g-notrun\"><a href=\"#\" title=\"not run\">-</a>"))
        #expect(page.contains("<td id=\"cell-2\" class=\"cell g-running\">"))
        let client = try EventStreamClient(port: serve.port, target: "/matrix-events?dir=matrix-out", headers: [serve.bearer])
        #expect(client.wait(timeout: 10) { $0.contains("\"text\":\"running\"") } != nil)
        #expect(await LiveGuest.stop(live, scratch: scratch) == 0)
        #expect(client.wait(timeout: 10) { $0.contains("\"index\":2") && ($0.contains("\"text\":\"FAIL\"") || $0.contains("\"text\":\"UNKNOWN\"")) } != nil)
    }

    /// How a string appears inside the stream's JSON (quotes and slashes as JSONWriter writes them).
    static func jsonText(_ text: String) -> String {
        let encoded = String(decoding: JSONValue.string(text).encoded(pretty: false), as: UTF8.self)
        return String(encoded.dropFirst().dropLast())
    }

    /// Every sample, keyed `name{labels as sorted JSON}`, by prometheus_client's own parser,
    /// which raises on anything outside the text format.
    static func parsePrometheus(_ text: Data) throws -> [String: Double] {
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(sys.stdin.read()):
                for sample in family.samples:
                    out[sample.name + json.dumps(sample.labels, sort_keys=True)] = sample.value
            print(json.dumps(out))
            """
        let output = try PythonScript.run(script, input: text)
        let decoded = try JSONValue.decode(output)
        var samples: [String: Double] = [:]
        for (key, value) in decoded.objectValue ?? [:] { samples[key] = value.doubleValue }
        return samples
    }
}

/// The escaping the tests expect, written independently of the server's.
enum HTMLText {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }
}

extension WebViewTests {
    @Test func aRunPageComparesItsPlatformsWithAnotherRunsEscaped() async throws {
        let root = Fixtures.temporaryDirectory("web-compare")
        _ = try await WebFixtures.hostileRun(root.appendingPathComponent("hostile"))
        let other = root.appendingPathComponent("plain")
        let scratch = Fixtures.temporaryDirectory("compare")
        try Data(PITAFixtures.jsonPlatform.utf8).write(to: scratch.appendingPathComponent("platform.json"))
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            curl -fsS -T "$1/platform.json" -H 'Content-Type: application/json' "$SUPPORT_HOST_URL/discover/python" >/dev/null
            """#)
        #expect(try await HostProcess.run(["run", "--run-dir", other.path, "--", guest, scratch.path]).status == 0)
        let serve = try await ServeProcess.start(root)
        defer { Task { await serve.stop() } }
        let page = try serve.page("/run?dir=hostile")
        #expect(page.contains("<option value=\"plain\">plain</option>"))
        let compared = try serve.page("/run?dir=hostile&compare=plain")
        #expect(compared.contains("<pre id=\"platform-diff\" class=\"diff\">"))
        #expect(compared.contains("- platform python3 /usr/bin/python3"))
        #expect(compared.contains(HTMLText.escape("+ platform python3 /usr/bin/" + WebFixtures.scriptPayload)))
        #expect(!compared.contains("<script>window"))
        #expect(try serve.page("/run?dir=plain&compare=plain").contains("The same platforms."))
        #expect(try serve.get("/run?dir=plain&compare=../..").status == 404)
    }
}

/// The web view over the output of a real `support-host matrix`.
@Suite(.enabled(if: Needs.curl && Needs.perlAndMake, Needs.perlAndMakeHint))
struct WebMatrixTests {
    @Test func aRealMatrixOutputShowsItsGradesInTheGrid() async throws {
        let fixture = try MatrixFixture()
        let plan = try fixture.plan(
            dists: [try fixture.passing("pass.t"), try fixture.failingOnFlavourB("flavour.t")],
            guests: ["local", fixture.launcher("flavour-b", flavour: "b")])
        let matrix = try await HostProcess.run(["matrix", plan, "--jobs", "2"], timeout: 300)
        #expect(matrix.status == 1, "one cell fails: \(matrix.stdout)\n\(matrix.stderr)")
        let serve = try await ServeProcess.start(fixture.output)
        defer { Task { await serve.stop() } }
        let page = try serve.page("/matrix")
        #expect(page.contains("<th>pass.t</th>") && page.contains("<th>flavour.t</th>"), "\(page)")
        #expect(page.contains("<th>local</th>") && page.contains("<th>flavour-b</th>"))
        #expect(page.components(separatedBy: "<td id=\"cell-").count - 1 == 4)
        #expect(page.components(separatedBy: "class=\"cell g-pass\"").count - 1 == 3, "\(page)")
        #expect(page.components(separatedBy: "class=\"cell g-fail\"").count - 1 == 1)
        #expect(page.contains("<td id=\"cell-3\" class=\"cell g-fail\"><a href=\"/run?dir=cells/flavour.t/flavour-b\""))
        #expect(!page.contains("id=\"live\""), "a finished matrix is not followed")
        let runs = try serve.page("/")
        #expect(runs.contains("href=\"/matrix?dir=.\""))
        #expect(runs.components(separatedBy: "href=\"/run?dir=cells/").count - 1 == 4)
        #expect(try serve.get("/run?dir=cells/flavour.t/flavour-b").status == 200)
        // Without matrix.json (a matrix still running writes it at its end) the grades are
        // the matrix's own, from each cell's report.
        try FileManager.default.removeItem(at: fixture.output.appendingPathComponent("matrix.json"))
        let live = try serve.page("/matrix")
        #expect(live.components(separatedBy: "class=\"cell g-pass\"").count - 1 == 3, "\(live)")
        #expect(live.contains("<td id=\"cell-3\" class=\"cell g-fail\">"))
    }
}
