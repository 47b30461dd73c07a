import Foundation
import PluginAPI

/// The job's `private_network: true`: the run's guests share one private network beside each
/// one's user-mode link to the host. Guest N of the job (from 1) is 10.0.3.(10+N); the network
/// is one qemu `socket` netdev on a multicast group bound to loopback, so no root is needed and
/// runs on one machine do not meet (each run has its own port).
///
/// Only the wiring: the addresses, the netdev argument and the MAC a command guest puts on its
/// second NIC (`-netdev {private_netdev} -device virtio-net-pci,netdev=private,mac={private_mac}`).
/// The qemu arguments for `qemu:ARCH` guests and the guest image's second NIC come with
/// `Guests/PrivateNetwork.swift` (the privnet branch).
struct PrivateNetworkWiring: Sendable, Equatable {
    static let group = "230.0.3.1"
    static let subnet = "10.0.3"
    /// The multicast port of this run's network.
    let port: Int

    /// A new run's network, if the job asks for one: a random port in 20000–59999.
    static func choose(_ job: Job) -> PrivateNetworkWiring? {
        guard job.privateNetwork else { return nil }
        return PrivateNetworkWiring(port: Int.random(in: 20000...59999))
    }

    /// The network a run taken over already has (its `private-network` record).
    static func recorded(_ history: [JournalEntry]) -> PrivateNetworkWiring? {
        guard let entry = history.first(where: { $0.source == "host" && $0.kind == "private-network" }),
            let port = entry.fields["port"]?.intValue
        else { return nil }
        return PrivateNetworkWiring(port: Int(port))
    }

    /// Guest `number` (from 1, in the job's order).
    func address(ofGuest number: Int) -> String { "\(Self.subnet).\(10 + number)" }

    func mac(ofGuest number: Int) -> String { String(format: "52:54:00:00:03:%02x", 10 + number) }

    /// qemu's `-netdev` value: every guest of the run on one multicast socket, on loopback.
    var netdev: String { "socket,id=private,mcast=\(Self.group):\(port),localaddr=127.0.0.1" }

    /// The second NIC of a `qemu:ARCH` guest, with the placeholders `GuestLaunch` fills in.
    /// (The privnet branch's `PrivateNetwork.swift` is to own these arguments once merged.)
    static func qemuArguments(arch: QemuArch) -> [String] {
        ["-netdev", "{private_netdev}", "-device", "virtio-net-\(arch.deviceSuffix),netdev=private,mac={private_mac}" + (arch == .arm64 ? "" : ",romfile=")]
    }

    func fields(guests: [GuestLaunch]) -> [String: JSONValue] {
        [
            "port": .int(Int64(port)), "netdev": .string(netdev),
            "addresses": .object(Dictionary(zip(guests.indices, guests).map { index, launch in
                (launch.environment["SUPPORT_HOST_GUEST"] ?? "\(index)", JSONValue.string(launch.privateAddress ?? ""))
            }) { a, _ in a }),
        ]
    }
}
