import Foundation

/// CPAN-style dists that each earn one grade, built on the fly into one shared directory (the
/// qemu suite uses them on three architectures): a pass that needs Hello::Tiny from the
/// minicpan (`MiniCPAN`), a test that fails only where pointers are 32 bits, a Makefile.PL
/// that dies "OS unsupported", a test that hangs, a tarball that is not a dist, and a dist with
/// only a Build.PL (Module::Build).
enum GradeDists {
    static let needsHello = "Needs-Hello-0.01"
    static let bits = "Bits-Check-0.01"
    static let noSuchOS = "No-Such-OS-0.01"
    static let hangs = "Hangs-0.01"
    static let notADist = "Not-A-Dist-0.01"
    static let buildPL = "Build-Only-0.01"

    /// The directory with every dist's tarball, built once.
    static let directory: URL = {
        let directory = Fixtures.temporaryDirectory("grade-dists")
        for (name, files) in sources { try? tarball(name, files: files, in: directory) }
        return directory
    }()

    static func path(_ name: String) -> String { directory.appendingPathComponent(name + ".tar.gz").path }

    static func makefilePL(_ module: String, prereqs: String = "") -> String {
        "use ExtUtils::MakeMaker;\nWriteMakefile(NAME => '\(module)', VERSION => '0.01', PREREQ_PM => { \(prereqs) });\n"
    }

    static let sources: [String: [String: String]] = [
        needsHello: [
            "Makefile.PL": makefilePL("Needs::Hello", prereqs: "'Hello::Tiny' => '0.01'"),
            "t/greet.t": "use Test::More tests => 1;\nuse Hello::Tiny;\nis(Hello::Tiny::greet('arch'), 'Hello, arch!', 'the dependency works');\n",
        ],
        // Debian's i386 perl has 64-bit integers (use64bitint: ivsize 8), so it is the pointer
        // size that tells a 32-bit perl.
        bits: [
            "Makefile.PL": makefilePL("Bits::Check"),
            "t/basic.t": "use Test::More tests => 1;\nok(1, 'loads');\n",
            "t/pointers.t": "use Config;\nuse Test::More tests => 1;\nis($Config{ptrsize}, 8, 'pointers are 64 bits');\n",
        ],
        noSuchOS: [
            "Makefile.PL": "die \"OS unsupported\\n\";\n",
            "t/basic.t": "use Test::More tests => 1;\nok(1);\n",
        ],
        hangs: [
            "Makefile.PL": makefilePL("Hangs"),
            "t/hang.t": "use Test::More tests => 1;\nsleep 3600;\nok(1);\n",
        ],
        notADist: ["README": "Just a readme: no Makefile.PL, no Build.PL.\n"],
        buildPL: [
            "Build.PL": "use Module::Build;\nModule::Build->new(module_name => 'Build::Only', dist_version => '0.01', license => 'perl')->create_build_script;\n",
            "lib/Build/Only.pm": "package Build::Only;\nour $VERSION = '0.01';\nsub answer { 42 }\n1;\n",
            "t/answer.t": "use Test::More tests => 1;\nuse Build::Only;\nis(Build::Only::answer(), 42, 'built by ./Build');\n",
        ],
    ]

    private static func tarball(_ name: String, files: [String: String], in directory: URL) throws {
        let top = directory.appendingPathComponent(name)
        for (file, text) in files {
            let url = top.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/sh")
        tar.arguments = ["-c", "cd \"$1\" && tar czf \"$2.tar.gz\" \"$2\" && rm -rf \"$2\"", "sh", directory.path, name]
        try tar.run()
        tar.waitUntilExit()
    }
}
