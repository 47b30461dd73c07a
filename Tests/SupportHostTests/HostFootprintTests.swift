import Foundation
import Testing

/// What a running host maps: every library it links is mapped (and partly resident) in every
/// host process, so Foundation, its XML layer and ICU, about 7 MiB of resident memory per host,
/// stay out (issue 18). libxml2 is loaded only when a guest sends XML.
struct HostFootprintTests {
    static let unwanted = [
        "libFoundation.so", "libFoundationXML.so", "libFoundationInternationalization.so", "lib_FoundationICU.so", "libxml2",
        "libicu",
    ]

    @Test func runningHostMapsNeitherFoundationNorICUNorXML() async throws {
        let runDir = Fixtures.temporaryDirectory("footprint").appendingPathComponent("run")
        let host = try HostProcess(["run", "--run-dir", runDir.path, "--", "/bin/sh", "-c", "exec sleep 60"])
        let port = await host.listeningPort()
        #expect(port != nil, "the host never listened: \(host.stderr)")
        let maps = try String(contentsOfFile: "/proc/\(host.pid)/maps", encoding: .utf8)
        let _ = await host.interrupt()
        #expect(maps.contains("support-host"), "not the host's map")
        for library in Self.unwanted {
            #expect(!maps.contains(library), "the host maps \(library)")
        }
    }
}
