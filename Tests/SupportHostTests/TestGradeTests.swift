import Foundation
import PluginAPI
import Testing

@testable import SupportHost
@testable import SupportHostTest

/// The CPAN Testers grade from stored summaries, without a guest; and the `--guest` names.
struct TestGradeTests {
    static func test(_ name: String, exit: Int64, failed: Int64 = 0) -> JSONValue {
        ["name": .string(name), "exit_code": .int(exit), "passed": 1, "failed": .int(failed)]
    }

    static func command(_ cmd: String, exit: Int64) -> JSONValue { ["cmd": .string(cmd), "exit_code": .int(exit)] }

    static func report(commands: [JSONValue], tests: [JSONValue], grade: String? = nil, reason: String = "") -> JSONValue {
        var report: [String: JSONValue] = ["commands": .array(commands), "tests": .array(tests)]
        if let grade { report["grade"] = ["grade": .string(grade), "reason": .string(reason)] }
        return .object(report)
    }

    @Test func aFailingTestFileOverrulesTheGuestsPass() {
        let summary = Self.report(
            commands: [Self.command("make", exit: 0)], tests: [Self.test("t/a.t", exit: 0), Self.test("t/b.t", exit: 1, failed: 1)],
            grade: "PASS")
        let grade = TestGrade.of(summaries: ["/1": summary])
        #expect(grade?.grade == "FAIL")
        #expect(grade?.failingTests == ["t/b.t"])
    }

    @Test func theGuestsNAStandsWhenNoTestRan() {
        let summary = Self.report(commands: [Self.command("perl Makefile.PL", exit: 255)], tests: [], grade: "NA", reason: "OS unsupported")
        #expect(TestGrade.of(summaries: ["/1": summary]) == TestGrade(grade: "NA", reason: "OS unsupported", failingTests: []))
    }

    @Test func withoutAGuestGradeAFailedStepIsAFailAndNoTestsUnknown() {
        let failed = Self.report(commands: [Self.command("make", exit: 2)], tests: [Self.test("t/a.t", exit: 0)])
        #expect(TestGrade.of(summaries: ["/1": failed])?.grade == "FAIL")
        let empty = Self.report(commands: [Self.command("make", exit: 0)], tests: [])
        #expect(TestGrade.of(summaries: ["/1": empty])?.grade == "UNKNOWN")
        let passed = Self.report(commands: [Self.command("make", exit: 0)], tests: [Self.test("t/a.t", exit: 0)])
        #expect(TestGrade.of(summaries: ["/1": passed])?.grade == "PASS")
    }

    @Test func stepsWithoutAReportAfterTheBuildAreAFail() {
        let steps: [String: JSONValue] = [
            "/1/step/2": Self.report(commands: [Self.command("make", exit: 0)], tests: []),
            "/1/step/1": Self.report(commands: [Self.command("perl Makefile.PL", exit: 0)], tests: []),
        ]
        let grade = TestGrade.of(summaries: steps)
        #expect(grade?.grade == "FAIL")
        #expect(grade?.reason.contains("the last step to end was make") == true, "\(String(describing: grade))")
        let early = TestGrade.of(summaries: ["/1/step/1": Self.report(commands: [Self.command("cpanm --installdeps .", exit: 0)], tests: [])])
        #expect(early?.grade == "UNKNOWN")
        #expect(TestGrade.of(summaries: [:]) == nil, "nothing tested, no grade")
    }

    @Test func guestNamesPickAnArchitecture() {
        #expect(QemuArch(guestName: "qemu") == .x86_64)
        #expect(QemuArch(guestName: "qemu:i386") == .i386)
        #expect(QemuArch(guestName: "qemu:arm64") == .arm64)
        #expect(QemuArch(guestName: "qemu:sparc") == nil)
        #expect(QemuArch(guestName: "kvm") == nil)
    }

    @Test func theArm64CommandLineUsesTheVirtBoardAndItsConsole() {
        let line = QemuGuest(arch: .arm64, kernel: "k", initrd: "i").commandLine(iso: "inj.iso", monitorSocket: "m.sock")
        #expect(line.first == "qemu-system-aarch64")
        #expect(line.contains("virt,accel=tcg"))
        #expect(line.contains { $0.hasPrefix("console=ttyAMA0") })
        #expect(line.contains("virtio-blk-device,drive=injector"))
        let pc = QemuGuest(arch: .i386, kernel: "k", initrd: "i").commandLine(iso: "inj.iso", monitorSocket: "m.sock")
        #expect(pc.first == "qemu-system-x86_64", "i386 runs under the amd64 kernel")
        #expect(pc.contains("virtio-blk-pci,drive=injector"))
    }

    @Test func theGradeExitCodesDoNotCollideWithRunOutcomes() {
        let outcomes = Set(Outcome.allCases.map(\.exitCode) + [Outcome.badJobExitCode, Outcome.hostErrorExitCode])
        let grades = TestPlugin.gradeExitCodes
        #expect(Set(grades.values).count == 4)
        #expect(Set(grades.values).intersection(outcomes) == [0], "only PASS shares 0 with a completed run")
    }
}
