import Foundation
import PluginAPI
import Testing

/// The scheme verbs with `--guest local`: the reference image manager runs as a plain process
/// on this host with its injector directory, against the real host binary.
@Suite(.enabled(if: Needs.curl && Needs.perlAndMake, Needs.perlAndMakeHint))
struct LocalGuestTests {
    static func perlArchname() throws -> String {
        let perl = Process()
        let pipe = Pipe()
        perl.executableURL = URL(fileURLWithPath: "/usr/bin/perl")
        perl.arguments = ["-MConfig", "-e", "print $Config{archname}"]
        perl.standardOutput = pipe
        try perl.run()
        perl.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    @Test func discoverDescribesThisHostsPerl() async throws {
        let runDir = Fixtures.runDirectory("discover-local")
        let host = try await HostProcess.run(["discover", "--guest", "local", "--json", "--run-dir", runDir.path])
        #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console)")
        let answer = try JSONValue.decode(Data(host.stdout.utf8))
        let platforms = answer["platforms"]?.arrayValue ?? []
        let perl = platforms.first { $0["scheme"] == "perl5" }
        #expect(perl?["path"] == "/usr/bin/perl")
        #expect(perl?["config"]?["archname"]?.stringValue == (try Self.perlArchname()))
        #expect(perl?["hash"]?.stringValue?.count == 64)
        #expect(platforms.contains { $0["scheme"] == "sh" && $0["path"] == "/bin/sh" })
        let envKeys = perl?["env"]?.objectValue?.keys.map { $0 } ?? []
        #expect(!envKeys.contains { $0.hasPrefix("SUPPORT_HOST_") }, "the run token stays out of the platform")
        #expect(!(RunFiles(url: runDir).journalText.contains("image.conf")))
    }

    @Test func discoverPrintsPlatformsWithHashes() async throws {
        let host = try await HostProcess.run(["discover", "--guest", "local", "--quiet", "--run-dir", Fixtures.runDirectory("discover-text").path])
        #expect(host.status == 0, "\(host.stderr)")
        #expect(host.stdout.contains("perl5 /usr/bin/perl  hash "), "\(host.stdout)")
        #expect(host.stdout.contains("archname = "), "\(host.stdout)")
    }

    @Test func testOfAPassingDistExitsZeroWithTapCounts() async throws {
        let dist = try TinyDist.tarball()
        let runDir = Fixtures.runDirectory("test-pass")
        let host = try await HostProcess.run(["test", dist, "--guest", "local", "--run-dir", runDir.path])
        #expect(host.status == 0, "\(host.stdout)\n\(host.stderr)\n\(RunFiles(url: runDir).console)")
        #expect(host.stdout.contains("grade PASS, run completed: 1 test file, 2 passed, 0 failed"), "\(host.stdout)")
        let report = try RunFiles(url: runDir).report
        let summary = report["results"]?.arrayValue?.first { $0["path"] == "/1" }?["pita_report"]
        let test = summary?["tests"]?.arrayValue?.first
        #expect(test?["name"] == "t/basic.t")
        #expect(test?["planned"] == 2)
        #expect(test?["passed"] == 2)
        #expect(test?["failed"] == 0)
        let commands = summary?["commands"]?.arrayValue?.compactMap { $0["cmd"]?.stringValue } ?? []
        #expect(commands == ["perl Makefile.PL", "make", "make test"])
        #expect(summary?["commands"]?.arrayValue?.allSatisfy { $0["exit_code"] == 0 } == true)
        #expect(report["mirror_requests"]?.arrayValue?.first?["path"] == "/dist/Hello-Tiny-0.01.tar.gz")
    }

    @Test func testOfAFailingDistExitsWithTheFailureCode() async throws {
        let dist = try TinyDist.tarball(failing: true)
        let runDir = Fixtures.runDirectory("test-fail")
        let host = try await HostProcess.run(["test", dist, "--guest", "local", "--run-dir", runDir.path])
        #expect(host.status == 1, "\(host.stdout)\n\(host.stderr)")
        #expect(host.stdout.contains("grade FAIL, run completed: 1 test file, 1 passed, 1 failed"), "\(host.stdout)")
        #expect(host.stdout.contains("FAILED make test (exit 2, "), "\(host.stdout)")
        #expect(try RunFiles(url: runDir).report["outcome"] == "completed", "the run itself completed")
        // Why it failed, on the terminal: the `not ok` line and Test::More's diagnostics.
        #expect(host.stdout.contains("         not ok 2 - greets"), "\(host.stdout)")
        #expect(host.stdout.contains("Failed test 'greets'"), "\(host.stdout)")
        let report = try await HostProcess.run(["report", runDir.path])
        #expect(report.stdout.hasPrefix("outcome:  run completed (exit 0) · grade FAIL: "), "\(report.stdout)")
        #expect(report.stdout.contains("failing:  t/basic.t"), "\(report.stdout)")
    }

    @Test func aDistNameIsFoundInAMirror() async throws {
        let dist = try TinyDist.tarball()
        let mirror = Fixtures.temporaryDirectory("minicpan")
        let authors = mirror.appendingPathComponent("authors/id/L/LO/LOCAL")
        try FileManager.default.createDirectory(at: authors, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: dist, toPath: authors.appendingPathComponent("Hello-Tiny-0.01.tar.gz").path)
        let runDir = Fixtures.runDirectory("test-mirror")
        let host = try await HostProcess.run([
            "test", "Hello-Tiny-0.01.tar.gz", "--mirror", "/cpan=\(mirror.path)", "--guest", "local", "--run-dir", runDir.path,
        ])
        #expect(host.status == 0, "\(host.stdout)\n\(host.stderr)")
        let paths = try RunFiles(url: runDir).report["mirror_requests"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
        #expect(paths == ["/cpan/authors/id/L/LO/LOCAL/Hello-Tiny-0.01.tar.gz"])
    }

    @Test func aDependencyComesFromTheMirrorThroughCpanm() async throws {
        let mirror = try MiniCPAN.build()
        let runDir = Fixtures.runDirectory("test-deps")
        let host = try await HostProcess.run([
            "test", GradeDists.path(GradeDists.needsHello), "--mirror", "/cpan=\(mirror.path)", "--guest", "local", "--run-dir", runDir.path,
        ])
        #expect(host.status == 0, "\(host.stdout)\n\(host.stderr)\n\(RunFiles(url: runDir).console)")
        let report = try RunFiles(url: runDir).report
        #expect(report["grade"] == "PASS")
        let paths = report["mirror_requests"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
        #expect(paths.contains("/cpan/" + MiniCPAN.tarball), "\(paths)")
        #expect(host.stdout.contains("ok     cpanm --installdeps ."), "\(host.stdout)")
    }

    @Test func aMakefilePLThatSaysOSUnsupportedIsNA() async throws {
        let runDir = Fixtures.runDirectory("test-na")
        let host = try await HostProcess.run(["test", GradeDists.path(GradeDists.noSuchOS), "--guest", "local", "--run-dir", runDir.path])
        #expect(host.status == 2, "\(host.stdout)\n\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["grade"] == "NA")
        #expect(report["outcome"] == "completed")
    }

    @Test func aDistWithOnlyABuildPLIsBuiltAndTestedWithBuild() async throws {
        let runDir = Fixtures.runDirectory("test-build-pl")
        let host = try await HostProcess.run(["test", GradeDists.path(GradeDists.buildPL), "--guest", "local", "--run-dir", runDir.path])
        #expect(host.status == 0, "\(host.stdout)\n\(host.stderr)\n\(RunFiles(url: runDir).console)")
        let summary = try RunFiles(url: runDir).report["results"]?.arrayValue?.first { $0["path"] == "/1" }?["pita_report"]
        let commands = summary?["commands"]?.arrayValue?.compactMap { $0["cmd"]?.stringValue } ?? []
        #expect(commands == ["perl Build.PL", "./Build", "./Build test"])
    }

    @Test func aTarballThatIsNotADistIsUnknown() async throws {
        let runDir = Fixtures.runDirectory("test-unknown")
        let host = try await HostProcess.run(["test", GradeDists.path(GradeDists.notADist), "--guest", "local", "--run-dir", runDir.path])
        #expect(host.status == 3, "\(host.stdout)\n\(host.stderr)")
        #expect(try RunFiles(url: runDir).report["grade_reason"]?.stringValue?.contains("no Makefile.PL or Build.PL") == true)
    }

    @Test func theGradeIsRebuiltFromTheJournal() async throws {
        let runDir = Fixtures.runDirectory("test-regrade")
        let host = try await HostProcess.run(["test", GradeDists.path(GradeDists.noSuchOS), "--guest", "local", "--run-dir", runDir.path])
        #expect(host.status == 2)
        try FileManager.default.removeItem(at: runDir.appendingPathComponent("report.json"))
        let recover = try await HostProcess.run(["recover", runDir.path])
        let json = try RunFiles(url: runDir).report
        #expect(json["grade"] == "NA", "\(recover.stdout)\n\(recover.stderr)")
        #expect(json["grade_reason"]?.stringValue?.contains("cannot run here") == true)
    }

    @Test func aHangingTestEndsByTheActivityTimeoutWithItsSteps() async throws {
        let runDir = Fixtures.runDirectory("test-hang")
        // 10 s: more than Makefile.PL and make take with the whole suite beside them (3 s did not).
        let host = try await HostProcess.run([
            "test", GradeDists.path(GradeDists.hangs), "--guest", "local", "--activity-timeout", "10", "--run-dir", runDir.path,
        ])
        #expect(host.status == 21, "\(host.stdout)\n\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["grade"] == "FAIL")
        #expect(host.stdout.contains("ok     make (exit 0"), "\(host.stdout)")
        #expect(host.stdout.contains("running: /usr/bin/perl -Mblib t/hang.t"), "\(host.stdout)")
    }

    @Test func anUnknownGuestOrAMissingImageSaysWhatToDo() async throws {
        let unknown = try await HostProcess.run(["ping", "--guest", "qemu:sparc", "--run-dir", Fixtures.runDirectory("bad-guest").path])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("qemu:arm64"), "\(unknown.stderr)")
        let missing = try await HostProcess.run(
            ["ping", "--guest", "qemu:arm64", "--run-dir", Fixtures.runDirectory("no-image").path],
            environment: ["SUPPORT_HOST_GUEST_BUILD": Fixtures.temporaryDirectory("empty-build").path])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("scripts/build-guest --arch arm64"), "\(missing.stderr)")
    }

    @Test func aCommandGuestGetsTheInjectorPlaceholder() async throws {
        let runDir = Fixtures.runDirectory("command-guest")
        let manager = Fixtures.packageRoot.appendingPathComponent("guest/image-manager.sh").path
        let host = try await HostProcess.run(["ping", "--run-dir", runDir.path, "--", "/bin/sh", manager, "--injector", "{injector}"])
        #expect(host.status == 0, "\(host.stdout)\n\(host.stderr)")
        #expect(host.stdout.contains("pinged "), "\(host.stdout)")
    }

    @Test func anImageManagerWithoutAWorkAreaCleansUpItsOwn() async throws {
        let runDir = Fixtures.runDirectory("own-workarea")
        let tmp = Fixtures.temporaryDirectory("guest-tmp")
        let manager = Fixtures.packageRoot.appendingPathComponent("guest/image-manager.sh").path
        let host = try await HostProcess.run(
            ["test", try TinyDist.tarball(), "--run-dir", runDir.path, "--", "/bin/sh", manager, "--injector", "{injector}"],
            environment: ["TMPDIR": tmp.path])
        #expect(host.status == 0, "\(host.stdout)\n\(host.stderr)")
        #expect(Fixtures.files(in: tmp).isEmpty, "left behind: \(Fixtures.files(in: tmp))")
    }

    @Test func anUnknownSchemeIsRefusedBeforeLaunch() async throws {
        let file = Fixtures.temporaryDirectory("odd").appendingPathComponent("thing.zip")
        try Data().write(to: file)
        let host = try await HostProcess.run(["test", file.path, "--guest", "local", "--run-dir", Fixtures.runDirectory("odd").path])
        #expect(host.status == 64)
        #expect(host.stderr.contains("cannot tell the scheme"), "\(host.stderr)")
    }

    @Test func thePluginTableListsTheVerbs() async throws {
        let host = try await HostProcess.run(["plugins"])
        for line in ["ping       Ping", "discover   Discover", "test DIST  Test"] {
            #expect(host.stdout.contains(line), "\(host.stdout)")
        }
    }
}
