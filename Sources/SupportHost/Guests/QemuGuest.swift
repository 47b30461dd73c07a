import FoundationEssentials

/// The qemu VM that `--guest qemu:ARCH` boots: the built guest's kernel and initramfs, TCG,
/// user-mode networking (the guest reaches the host's 127.0.0.1 as 10.0.2.2), the injector ISO
/// as a read-only virtio disk (`/dev/vda` in the guest), the serial console on stdout (the
/// run's `console.log`), a monitor socket for the stop command, and, when the run's guests share
/// one, a second NIC on the private network (`PrivateNetwork`).
struct QemuGuest {
    /// What the guest calls the host's loopback address under qemu's user-mode network.
    static let hostAddressInGuest = "10.0.2.2"

    var arch: QemuArch = .x86_64
    var kernel: String
    var initrd: String
    var memoryMiB = 256
    /// Added to the kernel command line (e.g. `rdinit=/bin/false` to see a panic).
    var append: String?

    /// The command line; `romfile=` leaves out the NIC's iPXE boot ROM, which a guest booted
    /// with `-kernel` does not need and which costs boot time under TCG. `loglevel=6` keeps the
    /// kernel's informational boot messages (a few hundred lines through an emulated UART) off
    /// the console; notices (the `Linux version` banner a reboot pattern looks for), warnings
    /// and panics are still printed. With `privateNetwork` (a member's NIC, or
    /// `PrivateNetwork.NIC.placeholders` for a guest of a job), a second NIC on the run's private
    /// network and the kernel arguments that give the guest its address there (before `append`,
    /// so that an `append` of the same key wins).
    func commandLine(iso: String, monitorSocket: String, privateNetwork: PrivateNetwork.NIC? = nil) -> [String] {
        let kernelArguments = (["console=\(arch.console)", "loglevel=6"] + arch.kernelArguments + [privateNetwork?.kernelArguments, append].compactMap { $0 })
            .joined(separator: " ")
        return [arch.qemuBinary] + arch.machine + [
            "-m", String(memoryMiB),
            "-kernel", kernel, "-initrd", initrd, "-append", kernelArguments,
            "-nographic", "-no-reboot",
            "-netdev", "user,id=n0", "-device", "virtio-net-\(arch.deviceSuffix),netdev=n0" + (arch == .arm64 ? "" : ",romfile="),
            "-drive", "file=\(iso),if=none,id=injector,format=raw,readonly=on",
            "-device", "virtio-blk-\(arch.deviceSuffix),drive=injector",
            "-monitor", "unix:\(monitorSocket),server,nowait",
        ] + (privateNetwork?.qemuArguments(arch: arch) ?? [])
    }

    /// The stop commands, each a step of the stop sequence with its own grace: `system_powerdown`
    /// on the monitor (the guest's power button: ACPI on a PC, a GPIO key on arm64), then `quit`;
    /// signals come after both.
    static func stopCommands(script: String, monitorSocket: String) -> [[String]] {
        [["python3", script, monitorSocket, "system_powerdown"], ["python3", script, monitorSocket, "quit"]]
    }

    /// Checks before launch what would otherwise fail inside the run.
    func check(files: GuestFiles) throws {
        guard Tools.find(arch.qemuBinary) != nil else {
            throw GuestSetupError.missingTool(arch.qemuBinary, "apt-get install -y \(arch.qemuPackage)")
        }
        for path in [kernel, initrd] where !FileManager.default.fileExists(atPath: path) {
            throw GuestSetupError.missingFile(path, "build the guest with \(arch.buildCommand), or give --kernel and --initrd")
        }
        guard Tools.find("python3") != nil, FileManager.default.fileExists(atPath: files.qemuStop) else {
            throw GuestSetupError.missingTool("python3 (for \(files.qemuStop))", "apt-get install -y python3")
        }
    }
}
