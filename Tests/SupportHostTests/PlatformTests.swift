import Foundation
import PITAXML
import PluginAPI
import Testing

/// Platforms: the canonical hash, PITA-XML `<guest>` documents, the safe XML reader.
struct PlatformTests {
    @Test func hashIgnoresTheOrderOfPairs() {
        let a = Platform(scheme: "perl5", path: "/usr/bin/perl", env: ["A": "1", "B": "2"], config: ["x": "y"])
        var b = Platform(scheme: "perl5", path: "/usr/bin/perl", env: [:], config: ["x": "y"])
        b.env["B"] = "2"
        b.env["A"] = "1"
        #expect(a.hash == b.hash)
        #expect(a.hash.count == 64)
    }

    @Test func hashChangesWhenAnyPartDiffers() {
        let base = Platform(scheme: "perl5", path: "/usr/bin/perl", env: ["PATH": "/bin"], config: ["osname": "linux"])
        var variants = [base]
        variants.append(Platform(scheme: "perl6", path: base.path, env: base.env, config: base.config))
        variants.append(Platform(scheme: base.scheme, path: "/opt/perl", env: base.env, config: base.config))
        variants.append(Platform(scheme: base.scheme, path: base.path, env: ["PATH": "/usr/bin"], config: base.config))
        variants.append(Platform(scheme: base.scheme, path: base.path, env: base.env, config: ["osname": "linux "]))
        // The same pair moved from env to config is a different platform.
        variants.append(Platform(scheme: base.scheme, path: base.path, env: [:], config: ["osname": "linux", "PATH": "/bin"]))
        #expect(Set(variants.map(\.hash)).count == variants.count)
    }

    @Test func canonicalFormKeepsSeparatorsInKeysAndValuesApart() {
        // Each pair would collide in a naive `key=value` line form.
        let pairs: [([String: String], [String: String])] = [
            (["a=b": "c"], ["a": "b=c"]),
            (["a": "x\ny"], ["a": "x\\ny"]),
            (["a": "1\nenv.b=2"], ["a": "1", "b": "2"]),
            (["a\tb": "c"], ["a": "b\tc"]),
        ]
        for (left, right) in pairs {
            let l = Platform(scheme: "s", path: "p", env: left)
            let r = Platform(scheme: "s", path: "p", env: right)
            #expect(l.hash != r.hash, "\(left) and \(right)")
        }
    }

    @Test func canonicalFormIsTheDocumentedText() {
        let platform = Platform(scheme: "perl5", path: "/usr/bin/perl", env: ["Z": "a\tb", "PATH": "/bin"], config: ["osname": "linux"])
        #expect(platform.canonicalForm == "support-host-platform-v1\nscheme\tperl5\npath\t/usr/bin/perl\nenv\tPATH\t/bin\nenv\tZ\ta\\tb\nconfig\tosname\tlinux\n")
    }

    @Test func canonicallyEquivalentUnicodeHashesTheSame() {
        let composed = Platform(scheme: "s", path: "/caf\u{E9}")
        let decomposed = Platform(scheme: "s", path: "/cafe\u{301}")
        #expect(composed.hash == decomposed.hash)
    }

    @Test func guestDocumentGivesItsTwoPlatforms() throws {
        guard case .guest(let platforms) = try PITADocument.read(Data(PITAFixtures.guest().utf8)) else {
            Issue.record("not read as a <guest>")
            return
        }
        #expect(platforms.count == 2)
        #expect(platforms[0].path == "/usr/bin/perl")
        #expect(platforms[0].env == ["PATH": "/usr/local/bin:/usr/bin:/bin", "PERL5LIB": ""])
        #expect(platforms[0].config["archname"] == "x86_64-linux-gnu-thread-multi")
        #expect(platforms[1].config["version"] == "5.8.8")
    }

    @Test func externalEntityDocumentIsRefused() {
        #expect(throws: GuestError.self) { try PITADocument.read(Data(PITAFixtures.xxe.utf8)) }
    }

    @Test func billionLaughsDocumentIsRefused() {
        let error = #expect(throws: GuestError.self) { try PITADocument.read(Data(PITAFixtures.billionLaughs.utf8)) }
        #expect(error?.status == 422)
        #expect(error?.reason.contains("DOCTYPE") == true)
    }

    @Test func documentDeclaringAnotherEncodingIsRefused() {
        let utf7 = "<?xml version='1.0' encoding='UTF-7'?><guest xmlns='\(PITAFixtures.namespace)'/>"
        #expect(throws: GuestError.self) { try PITADocument.read(Data(utf7.utf8)) }
    }

    @Test func documentOverTheParseLimitIsRefusedWith413() {
        let error = #expect(throws: GuestError.self) { try PITADocument.read(Data(PITAFixtures.guest().utf8), limit: 100) }
        #expect(error?.status == 413)
    }

    @Test func emptyMalformedOrTooDeepDocumentsAreRefusedWithA4xx() {
        let empty = #expect(throws: GuestError.self) { try PITADocument.read(Data()) }
        #expect(empty?.status == 422)
        let malformed = #expect(throws: GuestError.self) { try PITADocument.read(Data("<guest>\n<platform></guest>".utf8)) }
        #expect(malformed?.status == 422 && malformed?.reason.contains("line 2") == true, "\(String(describing: malformed))")
        let deep = String(repeating: "<a>", count: 65) + String(repeating: "</a>", count: 65)
        let tooDeep = #expect(throws: GuestError.self) { try PITADocument.read(Data(deep.utf8)) }
        #expect(tooDeep?.status == 413)
    }

    @Test func textEntitiesAndCDATAAreReadAsText() throws {
        let document = """
            <guest xmlns="\(PITADocument.namespacePrefix)0.52"><platform><scheme> perl5 </scheme><path>/a&amp;b</path>\
            <env name="K&lt;1"><![CDATA[x<y]]>&#233;</env><config name="c"><null/></config></platform></guest>
            """
        guard case .guest(let platforms) = try PITADocument.read(Data(document.utf8)) else {
            Issue.record("not a <guest>")
            return
        }
        #expect(platforms.first?.scheme == "perl5" && platforms.first?.path == "/a&b")
        #expect(platforms.first?.env == ["K<1": "x<yé"] && platforms.first?.config == ["c": ""])
    }

    @Test func xmlOutsideThePITANamespaceIsNotPITAXML() throws {
        #expect(try PITADocument.read(Data("<guest><platform/></guest>".utf8)) == nil)
    }

    @Test func reportIsSummarisedPerTestAndCommand() throws {
        guard case .report(let summary) = try PITADocument.read(Data(PITAFixtures.report.utf8)) else {
            Issue.record("not read as a <report>")
            return
        }
        #expect(summary.installs == 1)
        #expect(summary.tests.map(\.name) == ["t/01_main.t", "t/02_more.t"])
        #expect(summary.tests.map(\.exitCode) == [0, 1])
        #expect(summary.tests[0].passed == 3 && summary.tests[0].failed == 0 && summary.tests[0].planned == 3)
        #expect(summary.tests[1].passed == 2 && summary.tests[1].failed == 1 && summary.tests[1].todo == 1)
        #expect(summary.commands.map(\.command) == ["perl Makefile.PL", "make", "make test"])
        #expect(summary.commands.map(\.exitCode) == [.null, .null, 2])
    }
}

extension PITADocument: Equatable {
    public static func == (a: PITADocument, b: PITADocument) -> Bool {
        switch (a, b) {
        case (.guest(let x), .guest(let y)): return x == y
        case (.report(let x), .report(let y)): return x == y
        default: return false
        }
    }
}
