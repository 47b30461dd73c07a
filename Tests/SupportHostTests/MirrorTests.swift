import Foundation
import PluginAPI
import Testing

/// The CPAN mirror through the real binary: the host serves a directory while its guest sleeps,
/// the test sends the requests itself (raw bytes, no client normalising them), then stops the
/// host with Ctrl-C and reads report.json.
struct MirrorTests {
    /// A fixed run token, sent as `Authorization: Bearer` so the paths under test stay as they are.
    static let token = "mirror-tests-0123456789abcdef"
    /// A host serving `root` under `/cpan` (and any other mounts) to a guest that only sleeps.
    struct ServingHost {
        let host: HostProcess
        let port: Int
        let runDir: URL

        static func start(_ mounts: [String: URL], extra: [String] = []) async throws -> ServingHost {
            let runDir = Fixtures.runDirectory("mirror")
            let mirrorFlags = mounts.sorted { $0.key < $1.key }.flatMap { ["--mirror", "\($0.key)=\($0.value.path)"] }
            let host = try HostProcess(
                ["run", "--token", MirrorTests.token, "--run-dir", runDir.path] + mirrorFlags + extra + ["--", "sleep", "300"])
            guard let port = await host.listeningPort() else {
                _ = await host.interrupt()
                throw HostNotListening(stderr: host.stderr)
            }
            return ServingHost(host: host, port: port, runDir: runDir)
        }

        func get(_ target: String, _ headers: [(String, String)] = []) throws -> RawHTTP.Response {
            try send("GET", target, headers)
        }

        /// Sends a request with the run's token, as the guest would.
        func send(_ method: String, _ target: String, _ headers: [(String, String)] = []) throws -> RawHTTP.Response {
            try send(method, Array(target.utf8), headers)
        }

        func send(_ method: String, _ target: [UInt8], _ headers: [(String, String)] = []) throws -> RawHTTP.Response {
            try RawHTTP.send(port: port, method, target, headers: [("Authorization", "Bearer \(MirrorTests.token)")] + headers)
        }

        /// Stops the host; the report is then complete.
        func finish() async throws -> JSONValue {
            let status = await host.interrupt()
            #expect(status == 130, "\(host.stderr)")
            return try RunFiles(url: runDir).report
        }
    }

    struct HostNotListening: Error { let stderr: String }

    /// A mirror root with files of the given names and contents.
    static func root(_ files: [String: Data]) throws -> URL {
        let root = Fixtures.temporaryDirectory("mirror-root")
        for (name, data) in files {
            let url = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
        return root
    }

    @Test(arguments: [0, 1024, 5 << 20])
    func getSendsTheFileByteExact(size: Int) async throws {
        let content = Fixtures.randomData(size)
        let served = try await ServingHost.start(["/cpan": try Self.root(["file.bin": content])])
        let response = try served.get("/cpan/file.bin")
        // Twice: the second is sent from the event loop's cached descriptor.
        let again = try served.get("/cpan/file.bin")
        _ = try await served.finish()
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == String(size))
        #expect(response.body == content)
        #expect(again.body == content)
    }

    @Test func headAnswersLengthAndValidatorsWithoutABody() async throws {
        let served = try await ServingHost.start(["/cpan": try Self.root(["a.txt": Data(repeating: 65, count: 1000)])])
        let response = try served.send("HEAD", "/cpan/a.txt")
        _ = try await served.finish()
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == "1000")
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.header("ETag") != nil)
        #expect(response.header("Last-Modified") != nil)
        #expect(response.body.isEmpty)
    }

    @Test func rangeOfTheFirstBytesIs206WithContentRange() async throws {
        let content = Fixtures.randomData(10_000)
        let served = try await ServingHost.start(["/cpan": try Self.root(["f.bin": content])])
        let response = try served.get("/cpan/f.bin", [("Range", "bytes=0-99")])
        _ = try await served.finish()
        #expect(response.status == 206)
        #expect(response.header("Content-Range") == "bytes 0-99/10000")
        #expect(response.body == content.prefix(100))
    }

    @Test func rangeInTheMiddleSendsExactlyThoseBytes() async throws {
        let content = Fixtures.randomData(10_000)
        let served = try await ServingHost.start(["/cpan": try Self.root(["f.bin": content])])
        let response = try served.get("/cpan/f.bin", [("Range", "bytes=4000-4999")])
        _ = try await served.finish()
        #expect(response.status == 206)
        #expect(response.header("Content-Range") == "bytes 4000-4999/10000")
        #expect(response.body == content[4000..<5000])
    }

    @Test func suffixRangeSendsTheLastBytes() async throws {
        let content = Fixtures.randomData(10_000)
        let served = try await ServingHost.start(["/cpan": try Self.root(["f.bin": content])])
        let response = try served.get("/cpan/f.bin", [("Range", "bytes=-300")])
        _ = try await served.finish()
        #expect(response.status == 206)
        #expect(response.header("Content-Range") == "bytes 9700-9999/10000")
        #expect(response.body == content.suffix(300))
    }

    @Test func rangePastTheEndIs416() async throws {
        let served = try await ServingHost.start(["/cpan": try Self.root(["f.bin": Fixtures.randomData(100)])])
        let response = try served.get("/cpan/f.bin", [("Range", "bytes=100-200")])
        let report = try await served.finish()
        #expect(response.status == 416)
        #expect(response.header("Content-Range") == "bytes */100")
        #expect(report["mirror_requests"]?.arrayValue?.first?["range"] == "bytes=100-200")
    }

    @Test func ifNoneMatchWithTheETagIs304() async throws {
        let served = try await ServingHost.start(["/cpan": try Self.root(["f.txt": Data("hello\n".utf8)])])
        let first = try served.get("/cpan/f.txt")
        let etag = try #require(first.header("ETag"))
        let second = try served.get("/cpan/f.txt", [("If-None-Match", etag)])
        let other = try served.get("/cpan/f.txt", [("If-None-Match", "\"something-else\"")])
        _ = try await served.finish()
        #expect(second.status == 304)
        #expect(second.body.isEmpty)
        #expect(second.header("ETag") == etag)
        #expect(other.status == 200)
    }

    @Test func ifModifiedSinceTheLastModifiedIs304() async throws {
        let served = try await ServingHost.start(["/cpan": try Self.root(["f.txt": Data("hello\n".utf8)])])
        let first = try served.get("/cpan/f.txt")
        let lastModified = try #require(first.header("Last-Modified"))
        let second = try served.get("/cpan/f.txt", [("If-Modified-Since", lastModified)])
        let older = try served.get("/cpan/f.txt", [("If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")])
        _ = try await served.finish()
        #expect(second.status == 304)
        #expect(older.status == 200)
    }

    @Test func aChangedFileIsServedNewAtOnce() async throws {
        let root = try Self.root(["f.txt": Data("old content\n".utf8)])
        let served = try await ServingHost.start(["/cpan": root])
        let before = try served.get("/cpan/f.txt")
        try Data("new, longer content\n".utf8).write(to: root.appendingPathComponent("f.txt"))
        let after = try served.get("/cpan/f.txt", [("If-None-Match", before.header("ETag") ?? "")])
        _ = try await served.finish()
        #expect(before.body == Data("old content\n".utf8))
        #expect(after.status == 200)
        #expect(after.body == Data("new, longer content\n".utf8))
    }

    @Test func aFileReplacedOrRemovedIsSeenAtOnceAndAnUnchangedOneServedWithoutAStat() async throws {
        let root = try Self.root(["d/f.txt": Data("first\n".utf8), "other.txt": Data("other\n".utf8)])
        let served = try await ServingHost.start(["/cpan": root])
        let file = root.appendingPathComponent("d/f.txt")
        #expect(try served.get("/cpan/d/f.txt").body == Data("first\n".utf8))
        #expect(try served.get("/cpan/other.txt").body == Data("other\n".utf8))
        let spare = root.appendingPathComponent("d/.f.txt.new")
        try Data("second, by rename\n".utf8).write(to: spare)
        #expect(rename(spare.path, file.path) == 0)
        let renamed = try served.get("/cpan/d/f.txt")
        try FileManager.default.moveItem(at: root.appendingPathComponent("d"), to: root.appendingPathComponent("e"))
        let movedAway = try served.get("/cpan/d/f.txt")
        try FileManager.default.removeItem(at: root.appendingPathComponent("other.txt"))
        let removed = try served.get("/cpan/other.txt")
        _ = try await served.finish()
        #expect(renamed.body == Data("second, by rename\n".utf8))
        #expect(removed.status == 404)
        #expect(movedAway.status == 404)
    }

    @Test func contentTypeFollowsTheFileName() async throws {
        let names = ["a.tar.gz": "application/gzip", "b.gz": "application/gzip", "c.txt": "text/plain; charset=utf-8",
                     "d.json": "application/json", "e.yml": "application/yaml", "f.html": "text/html; charset=utf-8",
                     "g.bin": "application/octet-stream", "README": "application/octet-stream"]
        let served = try await ServingHost.start(["/cpan": try Self.root(names.mapValues { _ in Data("x".utf8) })])
        for (name, type) in names {
            #expect(try served.get("/cpan/" + name).header("Content-Type") == type, "\(name)")
        }
        _ = try await served.finish()
    }

    @Test func aDirectoryIs404WithoutMirrorIndex() async throws {
        let served = try await ServingHost.start(["/cpan": try Self.root(["sub/a.txt": Data("a".utf8)])])
        let sub = try served.get("/cpan/sub/")
        let top = try served.get("/cpan")
        _ = try await served.finish()
        #expect(sub.status == 404)
        #expect(top.status == 404)
    }

    @Test func mirrorIndexListsADirectory() async throws {
        let served = try await ServingHost.start(
            ["/cpan": try Self.root(["sub/a b.txt": Data("a".utf8), "sub/deeper/c.txt": Data("c".utf8)])], extra: ["--mirror-index"])
        let page = try served.get("/cpan/sub/")
        _ = try await served.finish()
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(page.status == 200)
        #expect(page.header("Content-Type") == "text/html; charset=utf-8")
        #expect(html.contains(#"href="/cpan/sub/a%20b.txt""#))
        #expect(html.contains(#"href="/cpan/sub/deeper/""#))
    }

    @Test func twoMountsServeTheirOwnDirectories() async throws {
        let served = try await ServingHost.start([
            "/cpan": try Self.root(["same.txt": Data("from cpan\n".utf8)]),
            "/extra/files": try Self.root(["same.txt": Data("from extra\n".utf8)]),
        ])
        let cpan = try served.get("/cpan/same.txt")
        let extra = try served.get("/extra/files/same.txt")
        let between = try served.get("/extra/same.txt")
        _ = try await served.finish()
        #expect(cpan.body == Data("from cpan\n".utf8))
        #expect(extra.body == Data("from extra\n".utf8))
        #expect(between.status == 404)
    }

    @Test func aSymlinkLeadingOutsideTheRootIs403() async throws {
        let scratch = Fixtures.temporaryDirectory("symlink")
        let root = scratch.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data("SECRET-symlink\n".utf8).write(to: scratch.appendingPathComponent("secret.txt"))
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("escape").path, withDestinationPath: "../secret.txt")
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("up").path, withDestinationPath: "..")
        let served = try await ServingHost.start(["/cpan": root])
        let file = try served.get("/cpan/escape")
        let directory = try served.get("/cpan/up/secret.txt")
        let report = try await served.finish()
        #expect(file.status == 403)
        #expect(directory.status == 403)
        #expect(!file.raw.contains(Data("SECRET".utf8)) && !directory.raw.contains(Data("SECRET".utf8)))
        #expect(report["mirror_requests"]?.arrayValue?.allSatisfy { $0["reason"]?.stringValue?.contains("outside") == true } == true)
    }

    @Test func traversalAttacksNeverReachTheSecretAndTheRunGoesOn() async throws {
        let scratch = Fixtures.temporaryDirectory("traversal")
        let root = scratch.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let secret = "SECRET-\(UUID().uuidString)"
        try Data(secret.utf8).write(to: scratch.appendingPathComponent("secret.txt"))
        try Data("public\n".utf8).write(to: root.appendingPathComponent("sub/public.txt"))
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("escape").path, withDestinationPath: "../secret.txt")
        let attacks = TraversalAttacks.paths(prefix: "/cpan", target: "secret.txt")
        #expect(attacks.count >= 100)

        let served = try await ServingHost.start(["/cpan": root])
        var answers: [(path: [UInt8], response: RawHTTP.Response)] = []
        for attack in attacks { answers.append((attack, try served.send("GET", attack))) }
        let afterwards = try served.get("/cpan/sub/public.txt")
        let report = try await served.finish()

        for (path, response) in answers {
            let shown = String(decoding: path, as: UTF8.self)
            #expect(!response.raw.contains(Data(secret.utf8)), "the secret leaked through \(shown)")
            #expect([400, 403, 404].contains(response.status), "\(shown) → \(response.status)")
        }
        #expect(afterwards.status == 200 && afterwards.body == Data("public\n".utf8))
        // Every attack is a request record with its reason: the mirror's own, or the host's for
        // a target outside every mount (e.g. `/cpan\..\`).
        #expect(report["requests"]?["count"]?.intValue == Int64(attacks.count + 1), "every request is recorded")
        let refusals = (report["mirror_requests"]?.arrayValue ?? []).filter { ($0["status"]?.intValue ?? 0) >= 400 }
        #expect(refusals.count >= attacks.count - 5)
        #expect(refusals.allSatisfy { $0["reason"]?.stringValue?.isEmpty == false })
        #expect(report["outcome"] == "interrupted")
    }

    @Test func theReportListsEachMirrorRequestWithStatusAndBytes() async throws {
        let served = try await ServingHost.start(["/cpan": try Self.root(["a.bin": Fixtures.randomData(1500), "b.txt": Data("b\n".utf8)])])
        _ = try served.get("/cpan/a.bin")
        _ = try served.get("/cpan/a.bin", [("Range", "bytes=0-9")])
        _ = try served.get("/cpan/missing")
        _ = try served.send("HEAD", "/cpan/b.txt")
        let report = try await served.finish()
        let requests = try #require(report["mirror_requests"]?.arrayValue)
        #expect(requests.map { $0["path"]?.stringValue ?? "" } == ["/cpan/a.bin", "/cpan/a.bin", "/cpan/missing", "/cpan/b.txt"])
        #expect(requests.map { $0["method"]?.stringValue ?? "" } == ["GET", "GET", "GET", "HEAD"])
        #expect(requests.map { $0["status"]?.intValue ?? 0 } == [200, 206, 404, 200])
        #expect(requests[0]["bytes_out"] == 1500)
        #expect(requests[1]["bytes_out"] == 10)
        #expect(requests[3]["bytes_out"] == 0)
        #expect(requests.allSatisfy { $0["duration"]?.doubleValue != nil && $0["wall"]?.stringValue != nil })
        let totals = try #require(report["mirror_totals"])
        #expect(totals["count"] == 4)
        #expect(totals["by_status"]?["200"] == 2)
        #expect(totals["by_status"]?["206"] == 1)
        #expect(totals["by_status"]?["404"] == 1)
        #expect(totals["bytes_served"] == 1510)
    }

    @Test func aLongRunsReportListsTheFirstThousandMirrorRequestsAndCountsThemAll() async throws {
        let runDir = Fixtures.runDirectory("long-mirror")
        let fill = try await HostProcess.run(["fill-journal", runDir.path, "2500"])
        #expect(fill.status == 0, "\(fill.stderr)")
        let recover = try await HostProcess.run(["recover", runDir.path])
        #expect(recover.status == 0, "\(recover.stderr)")
        let report = try RunFiles(url: runDir).report
        let requests = try #require(report["mirror_requests"]?.arrayValue)
        #expect(requests.count == 1000)
        #expect(requests.first?["path"] == "/cpan/authors/id/L/LO/LOCAL/file-0.tar.gz")
        #expect(requests.last?["path"] == "/cpan/authors/id/L/LO/LOCAL/file-999.tar.gz")
        #expect(report["mirror_requests_omitted"] == 1500)
        let totals = try #require(report["mirror_totals"])
        #expect(totals["count"] == 2500)
        #expect(totals["by_status"] == ["200": 2500])
        #expect(totals["bytes_out"] == .int(2500 * 1024))
        #expect(totals["bytes_served"] == .int(2500 * 1024))
        #expect(report["requests"]?["count"] == 2500)
        #expect(report["journal"]?["records"] == 2505, "3 before the requests, 2 written by recover")
        #expect(report["outcome"] == "host-crashed")
    }

    @Test(.enabled(if: Needs.cpanm, Needs.cpanmHint))
    func cpanmInstallsADistFromTheMiniCPAN() async throws {
        let mirror = try MiniCPAN.build()
        let runDir = Fixtures.runDirectory("cpanm")
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null || true
            TMP=$(mktemp -d)
            HOME="$TMP" cpanm --mirror "$SUPPORT_HOST_URL/cpan" --mirror-only -L "$TMP/local" Hello::Tiny
            perl -I"$TMP/local/lib/perl5" -MHello::Tiny -e 'print Hello::Tiny::greet("guest"), "\n"'
            """#)
        let host = try await HostProcess.run(["run", "--mirror", "/cpan=\(mirror.path)", "--run-dir", runDir.path, "--", guest])
        let files = RunFiles(url: runDir)
        #expect(host.status == 0, "\(host.stderr)\n\(files.console)")
        #expect(files.console.contains("Hello, guest!"))
        let requests = try files.report["mirror_requests"]?.arrayValue ?? []
        for path in ["/cpan/" + MiniCPAN.packages, "/cpan/" + MiniCPAN.tarball] {
            #expect(requests.contains { $0["path"]?.stringValue == path && $0["status"] == 200 }, "\(path) served with 200")
        }
    }
}
