import FoundationEssentials

/// Where the files for real guests are: the image manager and the qemu stop script (the
/// project's `guest/` folder) and each architecture's built kernel and initramfs
/// (`guest-build/ARCH/`, made by `scripts/build-guest --arch ARCH`). Found from
/// `SUPPORT_HOST_GUEST_DIR`, else by walking up from the executable and from the working
/// directory to the folder that holds `guest/image-manager.sh`; `SUPPORT_HOST_GUEST_BUILD`
/// names another folder of built guests.
public struct GuestFiles: Sendable {
    public var imageManager: String
    public var qemuStop: String
    public var build: String

    public func kernel(_ arch: QemuArch) -> String { build + "/\(arch.rawValue)/vmlinuz" }
    public func initrd(_ arch: QemuArch) -> String { build + "/\(arch.rawValue)/initrd" }

    public static func locate() -> GuestFiles {
        let environment = ProcessInfo.processInfo.environment
        let root = environment["SUPPORT_HOST_GUEST_DIR"].map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
            ?? projectRoot() ?? FileManager.default.currentDirectoryPath
        return GuestFiles(
            imageManager: root + "/guest/image-manager.sh", qemuStop: root + "/guest/qemu-stop",
            build: environment["SUPPORT_HOST_GUEST_BUILD"] ?? root + "/guest-build")
    }

    private static func projectRoot() -> String? {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let starts = [executable, URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        for start in starts {
            var directory = start.standardizedFileURL
            for _ in 0..<8 {
                if FileManager.default.fileExists(atPath: directory.appendingPathComponent("guest/image-manager.sh").path) {
                    return directory.path
                }
                directory = directory.deletingLastPathComponent()
            }
        }
        return nil
    }
}
