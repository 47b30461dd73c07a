import Foundation

/// A tiny CPAN-style dist built on the fly: `Hello-Tiny-0.01.tar.gz` with a `Makefile.PL`,
/// `lib/Hello/Tiny.pm` and `t/basic.t` (two tests; the failing variant fails the second),
/// and a TAP script for the `sh` scheme. (A shared minicpan fixture will take the dist's place.)
enum TinyDist {
    /// Builds the tarball in a new directory and returns its path.
    static func tarball(failing: Bool = false) throws -> String {
        let directory = Fixtures.temporaryDirectory("dist")
        let top = directory.appendingPathComponent("Hello-Tiny-0.01")
        let files: [String: String] = [
            "Makefile.PL": """
                use ExtUtils::MakeMaker;
                WriteMakefile(NAME => 'Hello::Tiny', VERSION_FROM => 'lib/Hello/Tiny.pm');

                """,
            "lib/Hello/Tiny.pm": """
                package Hello::Tiny;
                our $VERSION = '0.01';
                sub greet { return "Hello, $_[0]!" }
                1;

                """,
            "t/basic.t": """
                use strict;
                use Test::More tests => 2;
                use_ok('Hello::Tiny');
                is(Hello::Tiny::greet('guest'), \(failing ? "'Goodbye'" : "'Hello, guest!'"), 'greets');

                """,
        ]
        for (name, text) in files {
            let url = top.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/sh")
        tar.arguments = ["-c", "cd \"$1\" && tar czf Hello-Tiny-0.01.tar.gz Hello-Tiny-0.01 && rm -rf Hello-Tiny-0.01", "sh", directory.path]
        try tar.run()
        tar.waitUntilExit()
        return directory.appendingPathComponent("Hello-Tiny-0.01.tar.gz").path
    }

    /// A TAP script for the `sh` scheme: three tests, all passing.
    static func tapScript() throws -> String {
        let url = Fixtures.temporaryDirectory("tap").appendingPathComponent("smoke.t")
        try Data("""
            echo 1..3
            echo "ok 1 - a shell"
            [ -d /proc ] && echo "ok 2 - /proc" || echo "not ok 2 - /proc"
            uname -r | grep -q . && echo "ok 3 - uname -r" || echo "not ok 3 - uname -r"

            """.utf8).write(to: url)
        return url.path
    }
}
