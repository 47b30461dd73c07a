import Foundation
import PluginAPI
import SupportHost
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs of several guests through the real `support-host`: each guest a shell script with curl,
/// its own token, console, results and deadlines; essential guests decide the run, others are
/// recorded; `run --resume` takes every living guest over.
@Suite(.enabled(if: Needs.curl, Needs.curlHint))
struct SeveralGuestsTests {
    /// Writes a job file listing `guests` (each `[name: …, command: …]` as JSON), with `extra` keys.
    static func jobFile(_ guests: [[String: JSONValue]], _ extra: [String: JSONValue] = [:]) throws -> String {
        var job = extra
        job["guests"] = .array(guests.map { .object($0) })
        let url = Fixtures.temporaryDirectory("job").appendingPathComponent("job.json")
        try JSONValue.object(job).encoded(pretty: true).write(to: url)
        return url.path
    }

    static func guest(_ name: String, _ script: String, _ arguments: [String] = [], _ more: [String: JSONValue] = [:]) -> [String: JSONValue] {
        var entry = more
        entry["name"] = .string(name)
        entry["command"] = .array(([script] + arguments).map { .string($0) })
        return entry
    }

    static func records(_ runDir: URL, kind: String) -> [JSONValue] {
        RunFiles(url: runDir).journalText.split(separator: "\n").compactMap { line -> JSONValue? in
            guard line.contains(#""kind":"\#(kind)""#), let start = line.firstIndex(of: "{") else { return nil }
            return try? JSONValue.decode(Data(line[start...].utf8))
        }
    }

    /// Every guest's process group named in the journal, so a test never leaves one behind.
    static func killGuests(_ runDir: URL) {
        for record in records(runDir, kind: "guest-launched") {
            if let pid = record["fields"]?["pid"]?.intValue { kill(-pid_t(pid), SIGKILL) }
        }
    }

    @Test func eachOfThreeGuestsHasItsOwnTokenConsoleResultsAndRecords() async throws {
        let runDir = Fixtures.runDirectory("three")
        let work = Fixtures.temporaryDirectory("three-work")
        let script = Fixtures.guestScript(#"""
            echo "hello from $SUPPORT_HOST_GUEST"
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            echo "$SUPPORT_HOST_GUEST" | curl -fsS -T - "$SUPPORT_HOST_URL/result.txt" >/dev/null
            curl -s -o /dev/null -w '%{http_code}' -T /dev/null "$SUPPORT_HOST_URL/only-c.txt" > "$1/$SUPPORT_HOST_GUEST-only-c"
            base="${SUPPORT_HOST_URL%/t/*}"
            curl -s -o /dev/null -w '%{http_code}' "$base/" > "$1/$SUPPORT_HOST_GUEST-no-token"
            """#)
        let job = try Self.jobFile([
            Self.guest("a", script, [work.path]), Self.guest("b", script, [work.path], ["role": "client"]),
            Self.guest("c", script, [work.path], ["optional_results": ["/only-c.txt"]]),
        ], ["results": ["/result.txt"]])
        let run = try await HostProcess.run(["run", "--job", job, "--run-dir", runDir.path])
        #expect(run.status == 0, "\(run.stderr)")
        let files = RunFiles(url: runDir)
        for name in ["a", "b", "c"] {
            #expect(files.result("\(name)/result.txt") == Data("\(name)\n".utf8), "each guest's token puts into its own results")
            let console = (try? String(contentsOf: runDir.appendingPathComponent("console-\(name).log"), encoding: .utf8)) ?? ""
            #expect(console.contains("hello from \(name)"))
            #expect(try String(contentsOf: work.appendingPathComponent("\(name)-no-token"), encoding: .utf8) == "403")
        }
        #expect(try String(contentsOf: work.appendingPathComponent("a-only-c"), encoding: .utf8) == "404", "another guest's result path is not a's")
        #expect(try String(contentsOf: work.appendingPathComponent("c-only-c"), encoding: .utf8) == "201")
        #expect(files.result("result.txt") == nil)
        #expect(!FileManager.default.fileExists(atPath: runDir.appendingPathComponent("console.log").path))

        let requests = Self.records(runDir, kind: "request").filter { $0["fields"]?["status"] == 201 }
        #expect(Set(requests.compactMap { $0["fields"]?["guest"]?.stringValue }) == ["a", "b", "c"])
        let started = Self.records(runDir, kind: "guest-started").compactMap { $0["fields"]?["guest"]?.stringValue }
        #expect(Set(started) == ["a", "b", "c"])
        let report = try files.report
        #expect(report["outcome"] == "completed")
        let guests = try #require(report["guests"]?.arrayValue)
        #expect(guests.map { $0["name"] } == ["a", "b", "c"])
        #expect(guests[1]["role"] == "client")
        #expect(guests.allSatisfy { $0["results"]?.arrayValue?.isEmpty == false })
        #expect(guests[0]["console_tail"]?.arrayValue?.contains("hello from a") == true)
        let results = report["results"]?.arrayValue ?? []
        #expect(Set(results.compactMap { $0["file"]?.stringValue }) == ["results/a/result.txt", "results/b/result.txt", "results/c/result.txt", "results/c/only-c.txt"])
    }

    @Test func anEssentialGuestExitingNonZeroStopsTheRunAtOnceNamingIt() async throws {
        let runDir = Fixtures.runDirectory("essential")
        let server = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            exec sleep 300
            """#)
        let client = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            sleep 0.5
            exit 3
            """#)
        let job = try Self.jobFile([Self.guest("server", server), Self.guest("other", server), Self.guest("client", client)])
        let started = Date()
        let run = try await HostProcess.run(["run", "--job", job, "--run-dir", runDir.path])
        defer { Self.killGuests(runDir) }
        #expect(Date().timeIntervalSince(started) < 60, "the run stops at once, not at a timeout")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "guest-failed", "\(run.stderr)")
        #expect(report["outcome_guest"] == "client")
        #expect(report["line"]?.stringValue?.contains("guest client: exit status 3") == true)
        let steps = Self.records(runDir, kind: "stop-step").compactMap { $0["fields"]?["guest"]?.stringValue }
        #expect(Set(steps) == ["server", "other"], "every other guest is stopped, each its own steps, journaled")
        let exits = Self.records(runDir, kind: "guest-exited").compactMap { $0["fields"]?["guest"]?.stringValue }
        #expect(Set(exits) == ["server", "other", "client"])
    }

    @Test func anEssentialGuestMissingItsStartupTimeoutStopsTheRun() async throws {
        let runDir = Fixtures.runDirectory("startup")
        let pinger = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            exec sleep 300
            """#)
        let silent = Fixtures.guestScript("exec sleep 300")
        let job = try Self.jobFile([
            Self.guest("up", pinger), Self.guest("silent", silent, [], ["startup_timeout": 1]),
        ])
        let run = try await HostProcess.run(["run", "--job", job, "--run-dir", runDir.path])
        defer { Self.killGuests(runDir) }
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "startup-timeout", "\(run.stderr)")
        #expect(report["line"]?.stringValue?.contains("guest silent: no ping within 1 s") == true)
        #expect(report["outcome_guest"] == "silent")
        let stop = try #require(Self.records(runDir, kind: "stop-requested").first)
        #expect(stop["fields"]?["guest"] == "silent")
        let steps = Self.records(runDir, kind: "stop-step").compactMap { $0["fields"]?["guest"]?.stringValue }
        #expect(Set(steps) == ["up", "silent"])
    }

    @Test func aGuestThatIsNotEssentialFailingIsRecordedAndTheRunCompletes() async throws {
        let runDir = Fixtures.runDirectory("optional")
        let work = Fixtures.temporaryDirectory("optional-work")
        let main = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            i=0
            while [ ! -e "$1/flaky-gone" ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done
            echo done | curl -fsS -T - "$SUPPORT_HOST_URL/result.txt" >/dev/null
            """#)
        let flaky = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            touch "$1/flaky-gone"
            exit 5
            """#)
        let job = try Self.jobFile([
            Self.guest("main", main, [work.path]), Self.guest("flaky", flaky, [work.path], ["essential": false]),
        ], ["results": ["/result.txt"]])
        let run = try await HostProcess.run(["run", "--job", job, "--run-dir", runDir.path])
        defer { Self.killGuests(runDir) }
        #expect(run.status == 0, "\(run.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "completed")
        #expect(report["line"]?.stringValue?.contains("not essential and failed: flaky") == true)
        let failed = try #require(Self.records(runDir, kind: "guest-failed").first)
        #expect(failed["fields"]?["guest"] == "flaky")
        #expect(failed["fields"]?["results_no_longer_required"] == ["/result.txt"])
        let guests = report["guests"]?.arrayValue ?? []
        #expect(guests.first { $0["name"] == "flaky" }?["failed"]?.stringValue?.contains("exit status 5") == true)
        let text = try await HostProcess.run(["report", runDir.path])
        #expect(text.stdout.contains("guest main: pid"))
        #expect(text.stdout.contains("guest flaky: not essential, pid"))
        #expect(text.stdout.contains("exit status 5 (failed: guest failed: exit status 5)"))
    }

    /// One guest's requests do not keep another alive: each has its own activity clock.
    @Test func eachGuestHasItsOwnActivityTimeout() async throws {
        let runDir = Fixtures.runDirectory("activity")
        let busy = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            i=0
            while [ $i -lt 40 ]; do curl -fsS "$SUPPORT_HOST_URL/" >/dev/null; sleep 0.1; i=$((i+1)); done
            echo ok | curl -fsS -T - "$SUPPORT_HOST_URL/result.txt" >/dev/null
            """#)
        let quiet = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            exec sleep 300
            """#)
        let job = try Self.jobFile([
            Self.guest("busy", busy, [], ["results": ["/result.txt"]]),
            Self.guest("quiet", quiet, [], ["essential": false, "activity_timeout": 1, "results": []]),
        ], ["activity_timeout": 60])
        let run = try await HostProcess.run(["run", "--job", job, "--run-dir", runDir.path])
        defer { Self.killGuests(runDir) }
        #expect(run.status == 0, "\(run.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "completed")
        let failed = try #require(Self.records(runDir, kind: "guest-failed").first)
        #expect(failed["fields"]?["guest"] == "quiet")
        #expect(failed["fields"]?["outcome"] == "activity-timeout")
        let steps = Self.records(runDir, kind: "stop-step").compactMap { $0["fields"]?["guest"]?.stringValue }
        #expect(Set(steps) == ["quiet"], "only the quiet guest is stopped")
    }

    @Test func runResumeTakesOverEveryGuestAfterTheHostIsKilled() async throws {
        let runDir = Fixtures.runDirectory("resume-two")
        let work = Fixtures.temporaryDirectory("resume-two-work")
        let script = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            touch "$1/$SUPPORT_HOST_GUEST-between"
            i=0
            while [ ! -e "$1/go" ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done
            echo "$SUPPORT_HOST_GUEST" | curl -fsS --retry 30 --retry-connrefused --retry-delay 1 -T - "$SUPPORT_HOST_URL/result.txt" >/dev/null
            """#)
        let job = try Self.jobFile([Self.guest("a", script, [work.path]), Self.guest("b", script, [work.path])], ["results": ["/result.txt"]])
        let first = try HostProcess(["run", "--job", job, "--run-dir", runDir.path])
        defer { Self.killGuests(runDir) }
        #expect(await Fixtures.eventually(timeout: 30) {
            ["a", "b"].allSatisfy { FileManager.default.fileExists(atPath: work.appendingPathComponent("\($0)-between").path) }
        })
        // The journal reaches the file within a second; the launch records are what a new host needs.
        #expect(await Fixtures.eventually(timeout: 30) { Self.records(runDir, kind: "guest-launched").count == 2 })
        kill(first.pid, SIGKILL)
        _ = await first.wait()

        let second = try HostProcess(["run", "--resume", runDir.path])
        #expect(await Fixtures.eventually(timeout: 30) {
            RunFiles(url: runDir).journalText.components(separatedBy: #""kind":"listening""#).count == 3
        }, "\(second.stderr)")
        _ = FileManager.default.createFile(atPath: work.appendingPathComponent("go").path, contents: nil)
        let status = await second.wait()
        #expect(status == 0, "\(second.stderr)\n\(second.stdout)")
        let report = try RunFiles(url: runDir).report
        #expect(report["outcome"] == "completed")
        let resumed = try #require(Self.records(runDir, kind: "host-resumed").first)
        #expect(resumed["fields"]?["guest_pids"]?.objectValue?.keys.sorted() == ["a", "b"])
        for name in ["a", "b"] {
            #expect(RunFiles(url: runDir).result("\(name)/result.txt") == Data("\(name)\n".utf8))
        }
        let exits = Self.records(runDir, kind: "guest-exited")
        #expect(exits.count == 2)
        #expect(exits.allSatisfy { $0["fields"]?["status_unknown"] == true })
    }

    @Test func guestsGivenByKindAreLaunchedWithTheirOwnInjectors() async throws {
        let runDir = Fixtures.runDirectory("kinds")
        let job = try Self.jobFile([["name": "one", "guest": "local", "verb": "ping"], ["name": "two", "guest": "local", "verb": "ping"]])
        let run = try await HostProcess.run(["run", "--job", job, "--run-dir", runDir.path])
        defer { Self.killGuests(runDir) }
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try RunFiles(url: runDir).report["outcome"] == "completed")
        let started = Self.records(runDir, kind: "guest-started").compactMap { $0["fields"]?["guest"]?.stringValue }
        #expect(Set(started) == ["one", "two"], "each image manager pinged with its own token")
        let argv = Self.records(runDir, kind: "guest-launching").compactMap { $0["fields"]?["argv"]?.arrayValue?.compactMap(\.stringValue) }
        #expect(argv.count == 2)
        let injectors = argv.compactMap { line in line.firstIndex(of: "--injector").map { line[$0 + 1] } }
        #expect(Set(injectors).count == 2, "an injector per guest")
        let refused = try await HostProcess.run(["run", "--job", try Self.jobFile([["name": "x", "guest": "qemu:sparc", "verb": "ping"]])])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("no guest kind 'qemu:sparc'"))
    }

    @Test func aJobOfSeveralGuestsIsCheckedWhole() throws {
        var settings = try JobSettings.parse(Data(#"""
            {"guests": [{"name": "a", "command": "true"}, {"name": "a", "command": "true"}, {"name": "no spaces", "command": "true"}],
             "token": "0123456789abcdef0123"}
            """#.utf8))
        settings.runDirectory = nil
        #expect(throws: JobError.self) { try Job(settings) }
        do {
            _ = try Job(settings)
        } catch {
            let text = "\(error)"
            #expect(text.contains("'a' is given twice"))
            #expect(text.contains("guests[2]"))
            #expect(text.contains("a token of your own serves a run of one guest"))
        }
        #expect(throws: JobError.self) { try JobSettings.parse(Data(#"{"guests": [{"name": "a", "comand": "true"}]}"#.utf8)) }
        let tokenless = try JobSettings.parse(Data(#"{"guests": [{"name": "a", "command": "true"}, {"name": "b", "command": "true"}], "token": "none"}"#.utf8))
        #expect(throws: JobError.self) { try Job(tokenless) }
        let one = try Job(try JobSettings.parse(Data(#"{"guests": [{"name": "solo", "command": "true"}], "token": "none"}"#.utf8)))
        #expect(one.guests.map(\.name) == ["solo"], "a list of one guest is a run of one guest")
    }
}
