import Foundation

/// A tiny CPAN mirror with one real dist, Hello::Tiny 0.01, built by `scripts/make-minicpan` —
/// the one builder that tests, guest images and benchmarks share.
enum MiniCPAN {
    static let script = Fixtures.packageRoot.appendingPathComponent("scripts/make-minicpan")
    static let tarball = "authors/id/L/LO/LOCAL/Hello-Tiny-0.01.tar.gz"
    static let packages = "modules/02packages.details.txt.gz"
    static let mailrc = "authors/01mailrc.txt.gz"

    /// Builds the mirror in a new temporary directory and returns it.
    static func build() throws -> URL {
        let directory = Fixtures.temporaryDirectory("minicpan")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [script.path, directory.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw MiniCPANError.builderFailed(process.terminationStatus) }
        return directory
    }

    enum MiniCPANError: Error {
        case builderFailed(Int32)
    }
}
