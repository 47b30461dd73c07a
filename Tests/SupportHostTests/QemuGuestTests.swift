import Foundation
import PluginAPI
import Testing

extension QemuSuites {
    /// The scheme verbs with `--guest qemu` (x86_64): a real VM (Debian's kernel, a busybox and perl
    /// initramfs with the reference image manager) under TCG. Serialized, so that the VMs do not compete for the
    /// CPUs; each prints how long it took, for the CI log.
    @Suite(.serialized, .enabled(if: Needs.qemu, Needs.qemuHint))
    struct QemuGuestTests {
        static func timed(_ name: String, _ arguments: [String]) async throws -> HostProcess.Finished {
            let began = Date()
            let host = try await HostProcess.run(arguments, timeout: 150)
            print(String(format: "qemu test %@: %.1f s", name, Date().timeIntervalSince(began)))
            return host
        }

        @Test func pingBootsTheVMAndSaysHowLongThePingTook() async throws {
            let runDir = Fixtures.runDirectory("qemu-ping")
            let host = try await Self.timed("ping", ["ping", "--guest", "qemu", "--json", "--startup-timeout", "90", "--run-dir", runDir.path])
            let files = RunFiles(url: runDir)
            #expect(host.status == 0, "\(host.stderr)\n\(files.console.suffix(2000))")
            let answer = try JSONValue.decode(Data(host.stdout.utf8))
            let seconds = answer["seconds_to_ping"]?.doubleValue ?? -1
            print(String(format: "qemu boot to first ping: %.2f s", seconds))
            #expect(seconds > 0)
            let report = try files.report
            #expect(report["guest"]?["exit_status"] == 0, "the guest powered itself off")
            #expect(files.console.contains("Linux version "))
        }

        @Test func discoverShowsTheVMsKernel() async throws {
            let runDir = Fixtures.runDirectory("qemu-discover")
            let host = try await Self.timed("discover", ["discover", "--guest", "qemu", "--json", "--startup-timeout", "90", "--run-dir", runDir.path])
            #expect(host.status == 0, "\(host.stderr)\n\(RunFiles(url: runDir).console.suffix(2000))")
            let answer = try JSONValue.decode(Data(host.stdout.utf8))
            let sh = answer["platforms"]?.arrayValue?.first { $0["scheme"] == "sh" }
            let release = sh?["config"]?["kernel_release"]?.stringValue
            #expect(release != nil && release == GuestBuild.kernelRelease, "\(String(describing: release))")
            let hostRelease = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(release != hostRelease, "not the host's kernel")
            #expect(sh?["config"]?["busybox"]?.stringValue?.hasPrefix("BusyBox v") == true)
            let perl = answer["platforms"]?.arrayValue?.first { $0["scheme"] == "perl5" }
            #expect(perl?["config"]?["archname"]?.stringValue?.hasPrefix("x86_64-linux-gnu") == true, "the VM's own perl: \(String(describing: perl))")
        }

        @Test func testOfAShTapScriptPasses() async throws {
            let script = try TinyDist.tapScript()
            let runDir = Fixtures.runDirectory("qemu-test")
            let host = try await Self.timed("test", ["test", script, "--guest", "qemu", "--startup-timeout", "90", "--run-dir", runDir.path])
            #expect(host.status == 0, "\(host.stdout)\n\(host.stderr)\n\(RunFiles(url: runDir).console.suffix(2000))")
            #expect(host.stdout.contains("grade PASS, run completed: 1 test file, 3 passed, 0 failed"), "\(host.stdout)")
        }

        @Test func theStopCommandPowersTheVMOffWithoutASignal() async throws {
            let runDir = Fixtures.runDirectory("qemu-stop")
            let host = try await Self.timed("stop command", [
                "ping", "--guest", "qemu", "--linger", "300", "--activity-timeout", "2", "--startup-timeout", "90", "--run-dir", runDir.path,
            ])
            let files = RunFiles(url: runDir)
            #expect(host.status == 21, "activity timeout after the ping: \(host.stdout)\n\(host.stderr)")
            let report = try files.report
            let steps = report["stop"]?["steps"]?.arrayValue?.compactMap { $0["step"]?.stringValue } ?? []
            #expect(steps == ["stop-command"], "only the first stop command was needed: \(steps)")
            #expect(report["stop"]?["steps"]?.arrayValue?.first?["argv"]?.arrayValue?.last == "system_powerdown")
            #expect(report["guest"]?["during_stop_step"] == "stop-command")
            #expect(report["guest"]?["exit_status"] == 0, "qemu ended by the guest's power-off, not by a signal")
            #expect(files.console.contains("qemu-stop: system_powerdown sent"))
            #expect(files.console.contains("acpid: power button: powering off"))
        }

        @Test func aKernelPanicIsCaughtBySeconds() async throws {
            let runDir = Fixtures.runDirectory("qemu-panic")
            let host = try await Self.timed("panic", [
                "ping", "--guest", "qemu", "--append", "rdinit=/bin/false", "--fail-on-panic", "--startup-timeout", "90", "--stop-grace", "3",
                "--run-dir", runDir.path,
            ])
            #expect(host.status == 24, "\(host.stdout)\n\(host.stderr)")
            let report = try RunFiles(url: runDir).report
            #expect(report["outcome"] == "console-fail")
            #expect(report["line"]?.stringValue?.contains("Kernel panic - not syncing") == true)
            let panicAt = RunFiles(url: runDir).console.range(of: "Kernel panic") != nil
            #expect(panicAt)
            let stopAt = report["stop"]?["time"]?.doubleValue ?? 999
            let launched = report["timeline"]?.arrayValue?.first { $0["event"] == "guest-launched" }?["time"]?.doubleValue ?? 0
            print(String(format: "qemu panic caught %.1f s after launch", stopAt - launched))
        }
    }
}
