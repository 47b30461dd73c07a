import Foundation
import PluginAPI
import Testing

extension QemuSuites {
    /// `support-host test DIST --guest qemu:ARCH`: real CPAN-style dists tested inside real VMs of
    /// three architectures, graded as CPAN Testers would. A test that asks all three boots them
    /// side by side; the suite is serialized so that no more than three VMs share the CPUs.
    @Suite(.serialized, .enabled(if: Needs.qemuAllArchitectures, Needs.qemuAllArchitecturesHint))
    struct QemuDistTests {
        struct ArchRun {
            let arch: String
            let host: HostProcess.Finished
            let files: RunFiles
            var report: JSONValue { (try? files.report) ?? .null }
            var context: String { "\(arch): exit \(host.status)\n\(host.stdout)\n\(host.stderr)\n\(files.console.suffix(1500))" }
        }

        /// `support-host VERB … --guest qemu:ARCH` for each architecture at once.
        static func onEach(_ archs: [String], _ name: String, _ arguments: [String], timeout: Double = 300) async throws -> [String: ArchRun] {
            let began = Date()
            let runs = try await withThrowingTaskGroup(of: ArchRun.self) { group in
                for arch in archs {
                    group.addTask {
                        let runDir = Fixtures.runDirectory("\(name)-\(arch)")
                        let host = try await HostProcess.run(
                            arguments + ["--guest", "qemu:\(arch)", "--startup-timeout", "120", "--run-dir", runDir.path], timeout: timeout)
                        return ArchRun(arch: arch, host: host, files: RunFiles(url: runDir))
                    }
                }
                var runs: [String: ArchRun] = [:]
                for try await run in group { runs[run.arch] = run }
                return runs
            }
            print(String(format: "qemu %@ on %@: %.1f s", name, archs.joined(separator: ", "), Date().timeIntervalSince(began)))
            return runs
        }

        static let all = GuestBuild.architectures

        @Test func aDistWithADependencyFromTheMirrorPassesOnAllThreeArchitectures() async throws {
            let mirror = try MiniCPAN.build()
            let runs = try await Self.onEach(Self.all, "pass", ["test", GradeDists.path(GradeDists.needsHello), "--mirror", "/cpan=\(mirror.path)"])
            for (_, run) in runs.sorted(by: { $0.key < $1.key }) {
                #expect(run.host.status == 0, "\(run.context)")
                #expect(run.report["grade"] == "PASS", "\(run.context)")
                #expect(run.host.stdout.contains("grade PASS, run completed: 1 test file, 1 passed, 0 failed"), "\(run.context)")
                let paths = run.report["mirror_requests"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
                #expect(paths.contains("/cpan/" + MiniCPAN.tarball), "the dependency came from the mirror: \(paths)")
                let commands = run.report["results"]?.arrayValue?.first { $0["path"] == "/1" }?["pita_report"]?["commands"]?.arrayValue ?? []
                #expect(commands.compactMap { $0["cmd"]?.stringValue } == ["cpanm --installdeps .", "perl Makefile.PL", "make", "make test"])
                #expect(commands.allSatisfy { ($0["duration"]?.doubleValue ?? -1) >= 0 }, "each step has its duration")
            }
        }

        @Test func aTestThatNeedsSixtyFourBitPointersFailsOnlyOnI386() async throws {
            let runs = try await Self.onEach(Self.all, "bits", ["test", GradeDists.path(GradeDists.bits)])
            for arch in ["x86_64", "arm64"] {
                let run = try #require(runs[arch])
                #expect(run.host.status == 0, "\(run.context)")
                #expect(run.report["grade"] == "PASS", "\(run.context)")
            }
            let i386 = try #require(runs["i386"])
            #expect(i386.host.status == 1, "\(i386.context)")
            #expect(i386.report["grade"] == "FAIL")
            #expect(i386.report["failing_tests"] == ["t/pointers.t"], "\(i386.context)")
            #expect(i386.host.stdout.contains("failing test files: t/pointers.t"), "\(i386.context)")
            #expect(i386.host.stdout.contains("ok     t/basic.t"), "the other test file passed: \(i386.context)")
        }

        @Test func theThreeArchitecturesDescribeThreePerlPlatforms() async throws {
            let runs = try await Self.onEach(Self.all, "discover", ["discover", "--json"])
            var hashes: Set<String> = []
            let expected = ["x86_64": ("x86_64-linux-gnu", "8"), "i386": ("i686-linux-gnu", "4"), "arm64": ("aarch64-linux-gnu", "8")]
            for (arch, (archname, ptrsize)) in expected {
                let run = try #require(runs[arch])
                #expect(run.host.status == 0, "\(run.context)")
                let answer = try JSONValue.decode(Data(run.host.stdout.utf8))
                let perl = answer["platforms"]?.arrayValue?.first { $0["scheme"] == "perl5" }
                let config = perl?["config"]
                #expect(config?["archname"]?.stringValue?.hasPrefix(archname) == true, "\(arch): \(String(describing: config?["archname"]))")
                #expect(config?["ptrsize"]?.stringValue == ptrsize, "\(arch)")
                #expect(config?["ivsize"] == "8", "Debian's perl has 64-bit integers everywhere (\(arch))")
                #expect(config?["byteorder"] == "12345678", "\(arch)")
                #expect(config?["osvers"]?.stringValue?.isEmpty == false, "\(arch)")
                if let hash = perl?["hash"]?.stringValue { hashes.insert(hash) }
            }
            #expect(hashes.count == 3, "three different platform hashes: \(hashes)")
        }

        @Test func aMakefilePLThatSaysOSUnsupportedIsNA() async throws {
            let run = try #require(try await Self.onEach(["x86_64"], "na", ["test", GradeDists.path(GradeDists.noSuchOS)])["x86_64"])
            #expect(run.host.status == 2, "\(run.context)")
            #expect(run.report["grade"] == "NA", "\(run.context)")
            #expect(run.host.stdout.contains("grade NA, run completed: "), "\(run.context)")
        }

        @Test func aDistWithOnlyABuildPLPassesWithTheImagesModuleBuild() async throws {
            let run = try #require(try await Self.onEach(["x86_64"], "build-pl", ["test", GradeDists.path(GradeDists.buildPL)])["x86_64"])
            #expect(run.host.status == 0, "\(run.context)")
            #expect(run.host.stdout.contains("ok     ./Build test"), "\(run.context)")
        }

        @Test func aTarballThatIsNotADistIsUnknownWithTheReason() async throws {
            let run = try #require(try await Self.onEach(["x86_64"], "not-a-dist", ["test", GradeDists.path(GradeDists.notADist)])["x86_64"])
            #expect(run.host.status == 3, "\(run.context)")
            #expect(run.report["grade"] == "UNKNOWN")
            #expect(run.report["grade_reason"]?.stringValue?.contains("no Makefile.PL or Build.PL") == true, "\(run.context)")
        }

        @Test func aHangingTestEndsByTheActivityTimeoutWithEveryStepBeforeIt() async throws {
            let run = try #require(try await Self.onEach(["x86_64"], "hang", ["test", GradeDists.path(GradeDists.hangs), "--activity-timeout", "25"])["x86_64"])
            #expect(run.host.status == 21, "activity timeout: \(run.context)")
            let report = run.report
            #expect(report["outcome"] == "activity-timeout")
            let steps = report["results"]?.arrayValue?.compactMap { $0["path"]?.stringValue }.filter { $0.hasPrefix("/1/step/") }.sorted() ?? []
            #expect(steps == ["/1/step/1", "/1/step/2"], "Makefile.PL and make arrived as they ended: \(steps)")
            #expect(report["grade"] == "FAIL", "\(run.context)")
            #expect(report["grade_reason"]?.stringValue?.contains("the tests did not finish") == true)
            #expect(run.host.stdout.contains("ok     perl Makefile.PL"), "\(run.context)")
            #expect(run.host.stdout.contains("ok     make (exit 0"), "\(run.context)")
            #expect(run.host.stdout.contains("the guest's console, last "), "\(run.context)")
            #expect(run.host.stdout.contains("running: /usr/bin/perl -Mblib t/hang.t"), "the console tail shows the hang: \(run.context)")
        }
    }
}
