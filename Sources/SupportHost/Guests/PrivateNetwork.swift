#if canImport(Glibc)
import Glibc
#endif

/// The private network the qemu guests of one run share, beside each one's user-mode link to
/// the host: every guest's second NIC is on qemu's `-netdev socket,mcast=GROUP:PORT,localaddr=127.0.0.1`,
/// a UDP multicast group on the host's loopback that carries each guest's Ethernet frames to
/// all the others (a hub). No root is needed — no tap, bridge or capability, only UDP sockets
/// on 127.0.0.1 — and nothing leaves the host: the frames go out on the loopback only.
///
/// Guest N of a run (from 1, in job order) is `10.0.3.(10+N)/24` with the MAC
/// `52:54:00:10:03:` and 10+N in hex; a client reaches the server that is guest 1 at `10.0.3.11`.
/// `docs/guests.md` ("Private network") has the details.
///
/// Two runs at once must not share a network, so each has its own port: `reserve()` takes a
/// free UDP port of 127.0.0.1 from the kernel and keeps that socket open while the value (or a
/// copy) lives, so no other run's `reserve()` is given it meanwhile. qemu's multicast sockets
/// bind the group's address, not 127.0.0.1, so they do not collide with the reservation.
struct PrivateNetwork: Sendable, Equatable {
    /// An administratively scoped group (RFC 2365); with the port it names the network.
    static let group = "239.255.3.1"
    /// Guest N's address is `10.0.3.(firstHost - 1 + N)`: 10.0.3.1 to .10 stay free (for a
    /// router or a host-side member one day), .255 is the broadcast.
    static let subnet = "10.0.3"
    static let firstHost = 11
    static let prefixLength = 24
    /// 10.0.3.11 to 10.0.3.254.
    static let maximumGuests = 254 - firstHost + 1

    /// The UDP port of the multicast group: the network's identity on this host.
    let port: Int
    private let hold: PortHold?

    /// A network on a port the caller chose (tests, a port from elsewhere); nothing reserves it.
    init(port: Int) {
        self.port = port
        hold = nil
    }

    /// A network on a port no other run's network has while this value lives.
    static func reserve() throws(PrivateNetworkError) -> PrivateNetwork {
        let hold = try PortHold(port: 0)
        return PrivateNetwork(port: hold.port, hold: hold)
    }

    /// The network a run taken over already has, on its recorded port: reserved again if the
    /// port is still free (the dead host's reservation went with it; its qemu guests still use
    /// the port), else as it is — the guests are on it either way.
    static func resume(port: Int) -> PrivateNetwork {
        guard let hold = try? PortHold(port: port) else { return PrivateNetwork(port: port) }
        return PrivateNetwork(port: port, hold: hold)
    }

    private init(port: Int, hold: PortHold) {
        self.port = port
        self.hold = hold
    }

    /// Whether this value keeps its port from other runs' reservations.
    var isReserved: Bool { hold != nil }

    static func == (lhs: PrivateNetwork, rhs: PrivateNetwork) -> Bool { lhs.port == rhs.port }

    /// qemu's `-netdev` value, the same for every guest of the network.
    var netdev: String { "socket,id=\(Self.netdevID),mcast=\(Self.group):\(port),localaddr=127.0.0.1" }
    static let netdevID = "privnet"

    /// Guest `number` (from 1, in job order) of `count` guests on this network.
    func member(_ number: Int, of count: Int) throws(PrivateNetworkError) -> Member {
        guard count >= 1, count <= Self.maximumGuests else { throw .tooManyGuests(count) }
        guard number >= 1, number <= count else { throw .noSuchGuest(number, count) }
        return Member(network: self, number: number)
    }

    /// One guest's place on the network: its address, its MAC, and what qemu and the guest's
    /// kernel are told.
    struct Member: Sendable, Equatable {
        let network: PrivateNetwork
        /// From 1, in job order.
        let number: Int

        var port: Int { network.port }
        /// `10.0.3.11` for guest 1.
        var address: String { "\(PrivateNetwork.subnet).\(PrivateNetwork.firstHost - 1 + number)" }
        var addressWithPrefix: String { "\(address)/\(PrivateNetwork.prefixLength)" }
        /// Locally administered under qemu's 52:54:00 prefix, the last byte the address's;
        /// distinct for every guest of a run (their user-mode NICs all have qemu's 52:54:00:12:34:56,
        /// which is harmless: each user-mode network is its own).
        var mac: String {
            let last = PrivateNetwork.firstHost - 1 + number
            let hex = String(last, radix: 16)
            return "52:54:00:10:03:" + (hex.count == 1 ? "0" + hex : hex)
        }

        /// Read by the guest's `/init`, which gives the NIC with this MAC the address and the
        /// name eth1. Dotted names: the kernel takes them for a module's parameters and neither
        /// warns about them nor puts them in init's environment.
        var kernelArguments: String {
            "support_host.private_address=\(addressWithPrefix) support_host.private_mac=\(mac)"
        }

        /// What `QemuGuest.commandLine` puts on the command line for this guest.
        var nic: NIC { NIC(netdev: network.netdev, mac: mac, kernelArguments: kernelArguments) }

        /// The second NIC's qemu arguments (`QemuGuest.commandLine` adds them itself).
        func qemuArguments(arch: QemuArch) -> [String] { nic.qemuArguments(arch: arch) }

        /// A guest's command-line placeholders, filled in by `GuestLaunch`: a qemu command line
        /// of the job's own gets the same NIC as a `qemu:ARCH` guest with
        /// `-netdev {private_netdev} -device virtio-net-pci,netdev=privnet,mac={private_mac}`
        /// and `-append '… {private_kernel_args}'`.
        var placeholders: [String: String] {
            [
                NIC.placeholders.netdev: network.netdev, NIC.placeholders.mac: mac,
                NIC.placeholders.kernelArguments: kernelArguments, "{private_address}": address,
            ]
        }
    }

    /// A guest's NIC on the network as its qemu command line says it: one member's values, or
    /// the placeholders (`NIC.placeholders`) a guest of a job is prepared with before the run
    /// has reserved its port.
    struct NIC: Sendable, Equatable {
        let netdev: String
        let mac: String
        let kernelArguments: String

        static let placeholders = NIC(netdev: "{private_netdev}", mac: "{private_mac}", kernelArguments: "{private_kernel_args}")

        /// The second NIC: a virtio-net on the shared multicast netdev, after the user-mode
        /// one. `romfile=` as for the first NIC (no iPXE ROM on a PC; the virt board has none).
        func qemuArguments(arch: QemuArch) -> [String] {
            [
                "-netdev", netdev,
                "-device", "virtio-net-\(arch.deviceSuffix),netdev=\(PrivateNetwork.netdevID),mac=\(mac)" + (arch == .arm64 ? "" : ",romfile="),
            ]
        }
    }
}

/// A UDP socket bound to a port of 127.0.0.1 (0: one the kernel chooses), closed when the last
/// copy of the network that holds it goes. Sendable: its stored properties are immutable.
private final class PortHold: Sendable {
    let descriptor: Int32
    let port: Int

    init(port wanted: Int) throws(PrivateNetworkError) {
        guard let wantedPort = UInt16(exactly: wanted) else { throw .cannotReservePort("\(wanted) is no port") }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .cannotReservePort(String(cString: strerror(errno))) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = wantedPort.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
            }
        }
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .cannotReservePort(reason)
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

/// The private network cannot be set up as asked.
enum PrivateNetworkError: Error, CustomStringConvertible, Sendable, Equatable {
    case tooManyGuests(Int)
    case noSuchGuest(Int, Int)
    case cannotReservePort(String)

    var description: String {
        switch self {
        case .tooManyGuests(let count):
            return "a private network holds 1 to \(PrivateNetwork.maximumGuests) guests (10.0.3.11 to 10.0.3.254), not \(count)"
        case .noSuchGuest(let number, let count): return "there is no guest \(number) of \(count) (guests count from 1)"
        case .cannotReservePort(let reason): return "cannot reserve a UDP port on 127.0.0.1 for the private network: \(reason)"
        }
    }
}
