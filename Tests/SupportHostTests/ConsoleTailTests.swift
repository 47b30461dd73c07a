import Foundation
import Testing

@testable import SupportHost

/// The console tail of a report: lines as a person sees them, whatever ends them.
struct ConsoleTailTests {
    @Test func aSerialConsolesCarriageReturnLineFeedsAreLines() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("booting\r\nimage-manager: running: make test\r\nqemu-stop: sent\n[ 33.2] reboot: Power down\r\n".utf8).write(to: url)
        #expect(ConsoleTail.read(url) == [
            "booting", "image-manager: running: make test", "qemu-stop: sent", "[ 33.2] reboot: Power down",
        ])
    }
}
