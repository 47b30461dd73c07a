import Foundation
import PluginAPI
import Testing

extension QemuSuites {
    /// The guest's life on each architecture, three VMs side by side: the polite stop
    /// (`system_powerdown`: ACPI on a PC, the virt board's GPIO key on arm64) and a panic seen on
    /// the console (`ttyS0` or `ttyAMA0`) by `--fail-on-panic`.
    @Suite(.serialized, .enabled(if: Needs.qemuAllArchitectures, Needs.qemuAllArchitecturesHint))
    struct QemuArchTests {
        @Test func theStopCommandPowersEachArchitectureOff() async throws {
            let runs = try await QemuDistTests.onEach(QemuDistTests.all, "stop", ["ping", "--linger", "300", "--activity-timeout", "2"])
            for (arch, run) in runs.sorted(by: { $0.key < $1.key }) {
                #expect(run.host.status == 21, "activity timeout after the ping: \(run.context)")
                let report = run.report
                let steps = report["stop"]?["steps"]?.arrayValue?.compactMap { $0["step"]?.stringValue } ?? []
                #expect(steps == ["stop-command"], "\(arch): system_powerdown was enough: \(steps)")
                #expect(report["guest"]?["exit_status"] == 0, "\(arch): qemu ended by the guest's power-off")
                #expect(run.files.console.contains("acpid: power button: powering off"), "\(run.context)")
                #expect(run.files.console.contains("Linux version "), "\(arch): the boot banner a --reboot-pattern looks for reaches the console")
            }
        }

        @Test func aKernelPanicIsCaughtOnEachArchitecture() async throws {
            let runs = try await QemuDistTests.onEach(
                QemuDistTests.all, "panic", ["ping", "--append", "rdinit=/bin/false", "--fail-on-panic", "--stop-grace", "3"])
            for (_, run) in runs.sorted(by: { $0.key < $1.key }) {
                #expect(run.host.status == 24, "\(run.context)")
                #expect(run.report["line"]?.stringValue?.contains("Kernel panic - not syncing") == true, "\(run.context)")
            }
        }
    }
}
