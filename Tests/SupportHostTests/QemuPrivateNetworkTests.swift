import Foundation
import PluginAPI
import Testing

@testable import SupportHost

extension QemuSuites {
    /// Two VMs (x86_64; i386 and arm64 too where built) on one private network (`PrivateNetwork`), each the guest of its own
    /// `support-host test SCRIPT -- <QemuGuest's command line>`: guest 1 serves a file with
    /// busybox httpd on 10.0.3.11, guest 2 fetches it with busybox wget over the private network
    /// and its TAP, stored in its run's report, shows what it got.
    @Suite(.serialized, .enabled(if: Needs.qemu, Needs.qemuHint))
    struct QemuPrivateNetworkTests {
        /// The server: httpd on its private address, then a bounded wait until the client has
        /// fetched `/cgi-bin/done` (so the VM stays up while the client needs it).
        static func serverScript(greeting: String) -> String {
            """
            echo 1..2
            mkdir -p /tmp/www/cgi-bin
            echo '\(greeting)' > /tmp/www/greeting.txt
            cat > /tmp/www/cgi-bin/done <<'CGI'
            #!/bin/sh
            touch /tmp/fetched
            printf 'Content-Type: text/plain\\r\\n\\r\\nbye\\n'
            CGI
            chmod 755 /tmp/www/cgi-bin/done
            ip addr show eth1 >&2
            if httpd -p 10.0.3.11:80 -h /tmp/www; then echo "ok 1 - httpd on 10.0.3.11:80"; else echo "not ok 1 - httpd on 10.0.3.11:80"; fi
            i=0
            while [ ! -f /tmp/fetched ] && [ $i -lt 600 ]; do sleep 0.25; i=$((i + 1)); done
            if [ -f /tmp/fetched ]; then echo "ok 2 - the client fetched"; else echo "not ok 2 - the client fetched"; fi

            """
        }

        /// The client: retries (the server may boot later) for up to about three minutes. Each
        /// wget is bounded by busybox `timeout`: busybox-static 1.35's `wget -T` segfaults.
        static let clientScript = """
            echo 1..2
            ip addr show eth1 >&2
            i=0
            while [ $i -lt 60 ] && ! timeout 10 wget -q -O /tmp/got http://10.0.3.11/greeting.txt; do sleep 2; i=$((i + 1)); done
            if [ -s /tmp/got ]; then echo "ok 1 - fetched from 10.0.3.11: $(cat /tmp/got)"; else echo "not ok 1 - nothing from 10.0.3.11"; fi
            if timeout 10 wget -q -O /dev/null http://10.0.3.11/cgi-bin/done; then echo "ok 2 - told the server"; else echo "not ok 2 - told the server"; fi

            """

        @Test func aClientGuestFetchesFromTheServerGuestOverThePrivateNetwork() async throws {
            try await Self.fetchOverThePrivateNetwork(arch: .x86_64)
        }

        /// The same on i386 (a 32-bit busybox) and arm64 (virtio-mmio, where the private NIC is
        /// found first and `/init` renames it eth1).
        @Test(.serialized, .enabled(if: Needs.qemuAllArchitectures, Needs.qemuAllArchitecturesHint), arguments: [QemuArch.i386, .arm64])
        func theOtherArchitecturesShareAPrivateNetworkToo(arch: QemuArch) async throws {
            try await Self.fetchOverThePrivateNetwork(arch: arch)
        }

        static func fetchOverThePrivateNetwork(arch: QemuArch) async throws {
            let network = try PrivateNetwork.reserve()
            let greeting = "served over the private network, port \(network.port), \(UUID().uuidString.prefix(8))"
            let scratch = Fixtures.temporaryDirectory("privnet")
            let build = GuestBuild.directory(arch.rawValue)
            let qemu = QemuGuest(
                arch: arch, kernel: build.appendingPathComponent("vmlinuz").path, initrd: build.appendingPathComponent("initrd").path)

            func host(_ name: String, number: Int, script: String) async throws -> (HostProcess.Finished, RunFiles) {
                let file = scratch.appendingPathComponent("\(name).t")
                try Data(script.utf8).write(to: file)
                let launcher = qemu.commandLine(
                    iso: "{injector_iso}", monitorSocket: scratch.appendingPathComponent("\(name).sock").path,
                    privateNetwork: try network.member(number, of: 2).nic)
                let runDir = Fixtures.runDirectory("privnet-\(arch.rawValue)-\(name)")
                let finished = try await HostProcess.run(
                    ["test", file.path, "--guest-host", QemuGuest.hostAddressInGuest, "--startup-timeout", "120", "--total-timeout", "270", "--fail-on-panic",
                     "--run-dir", runDir.path, "--"] + launcher, timeout: 300)
                return (finished, RunFiles(url: runDir))
            }

            let began = Date()
            async let server = host("server", number: 1, script: Self.serverScript(greeting: greeting))
            async let client = host("client", number: 2, script: Self.clientScript)
            let (serverRun, clientRun) = try await (server, client)
            Fixtures.note(String(format: "qemu private network, two %@ VMs: %.1f s", arch.rawValue, Date().timeIntervalSince(began)))

            for (name, (finished, files)) in [("server", serverRun), ("client", clientRun)] {
                let context = "\(arch.rawValue) \(name): exit \(finished.status)\n\(finished.stdout)\n\(finished.stderr)\n\(files.console.suffix(2000))"
                #expect(finished.status == 0, "\(context)")
                #expect(finished.stdout.contains("grade PASS, run completed: 1 test file, 2 passed, 0 failed"), "\(context)")
            }
            #expect(serverRun.1.console.contains("init: private network: eth1 10.0.3.11/24 (52:54:00:10:03:0b)"))
            #expect(clientRun.1.console.contains("init: private network: eth1 10.0.3.12/24 (52:54:00:10:03:0c)"))
            let clientReport = String(decoding: clientRun.1.result("1") ?? Data(), as: UTF8.self)
            #expect(clientReport.contains("ok 1 - fetched from 10.0.3.11: \(greeting)"), "the client's stored report: \(clientReport.suffix(2000))")
        }
    }
}
