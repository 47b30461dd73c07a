/// The architectures a qemu guest is built for (`scripts/build-guest --arch NAME`): each names
/// its qemu binary, machine, serial console and where its devices hang (PCI on a PC, the
/// virt board's virtio-mmio slots on arm64).
public enum QemuArch: String, Sendable, CaseIterable {
    case x86_64
    /// A 32-bit userland under the amd64 kernel, which runs it through its IA32 emulation.
    case i386
    case arm64

    /// `qemu`, `qemu:x86_64`, `qemu:i386`, `qemu:arm64`; nil for anything else.
    public init?(guestName: String) {
        if guestName == "qemu" { self = .x86_64; return }
        guard guestName.hasPrefix("qemu:"), let arch = QemuArch(rawValue: String(guestName.dropFirst(5))) else { return nil }
        self = arch
    }

    /// The `--guest` names there are, for an error message.
    public static var guestNames: [String] { ["local", "qemu"] + allCases.map { "qemu:\($0.rawValue)" } }

    var qemuBinary: String { self == .arm64 ? "qemu-system-aarch64" : "qemu-system-x86_64" }
    var qemuPackage: String { self == .arm64 ? "qemu-system-arm" : "qemu-system-x86" }
    var console: String { self == .arm64 ? "ttyAMA0" : "ttyS0" }

    /// The machine: TCG everywhere (KVM may be absent on CI machines). On a PC qemu's default
    /// CPU with RDRAND, which the kernel trusts to seed its random pool at once
    /// (CONFIG_RANDOM_TRUST_CPU): without it the pool filled from timer jitter ~3.5 s into the
    /// boot, and the first perl, which reads /dev/urandom for its hash seed, waited for that
    /// (~1 s of CPU under TCG). On arm64 `-cpu max` with
    /// the implementation-defined pointer-authentication algorithm, which qemu's documentation
    /// (docs/system/arm/cpu-features) gives as much cheaper to emulate than the architected
    /// QARMA; the kernel signs every return address with it.
    var machine: [String] {
        switch self {
        case .x86_64, .i386: return ["-machine", "accel=tcg", "-cpu", "qemu64,+rdrand"]
        case .arm64: return ["-machine", "virt,accel=tcg", "-cpu", "max,pauth-impdef=on"]
        }
    }

    /// Added to every guest's kernel command line. On a PC `no_timer_check`: at boot the kernel
    /// checks that timer interrupts arrive through the IO-APIC by waiting a calibrated busy loop
    /// for a few ticks; a TCG vCPU on a loaded host can see none in time, and the kernel panics
    /// ("IO-APIC + timer doesn't work!", seen on an i386 boot while the suite ran). qemu's
    /// emulated IO-APIC does deliver them. (arm64 has no
    /// such check, and would hand an unknown word to `/init`.)
    var kernelArguments: [String] { self == .arm64 ? [] : ["no_timer_check"] }

    /// virtio-pci devices on a PC, virtio-mmio ones on the virt board (no PCI probing).
    var deviceSuffix: String { self == .arm64 ? "device" : "pci" }

    /// How to build this architecture's guest.
    public var buildCommand: String { "scripts/build-guest --arch \(rawValue)" }
}
