import Foundation

/// The qemu guests, one per architecture, built by `scripts/build-guest --arch ARCH` into the
/// git-ignored `guest-build/ARCH/` the first time a suite asks (the script does nothing when
/// its key — the script, the image manager, the kernel and the .deb files — is unchanged).
enum GuestBuild {
    static let architectures = ["x86_64", "i386", "arm64"]

    static func directory(_ arch: String) -> URL {
        Fixtures.packageRoot.appendingPathComponent("guest-build/\(arch)")
    }

    /// Whether each architecture's guest is built (building it if needed); built once per run.
    static let ready: [String: Bool] = {
        guard Fixtures.has("cpio"), Fixtures.has("zstd"), Fixtures.has("lz4"), Fixtures.has("apt-get") else {
            return Dictionary(uniqueKeysWithValues: architectures.map { ($0, false) })
        }
        return Dictionary(uniqueKeysWithValues: architectures.map { arch in
            let build = Process()
            build.executableURL = Fixtures.packageRoot.appendingPathComponent("scripts/build-guest")
            build.arguments = ["--arch", arch]
            build.standardOutput = FileHandle.nullDevice
            do {
                try build.run()
            } catch {
                return (arch, false)
            }
            build.waitUntilExit()
            let built = build.terminationStatus == 0
                && FileManager.default.fileExists(atPath: directory(arch).appendingPathComponent("vmlinuz").path)
                && FileManager.default.fileExists(atPath: directory(arch).appendingPathComponent("initrd").path)
            return (arch, built)
        })
    }()

    /// The kernel release of the built x86_64 and i386 guests (the host's amd64 kernel, as
    /// `uname -r` shows it).
    static var kernelRelease: String? {
        let boot = (try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? []
        return boot.filter { $0.hasPrefix("vmlinuz-") && $0.hasSuffix("-amd64") }.map { String($0.dropFirst("vmlinuz-".count)) }.sorted().last
    }
}
