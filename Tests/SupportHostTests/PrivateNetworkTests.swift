import Foundation
import Testing

@testable import SupportHost

#if canImport(Glibc)
import Glibc
#endif

/// The private network's addresses, qemu arguments and port reservation, without a VM; the
/// multicast it rests on is checked with sockets set up as qemu sets up its own.
@Suite struct PrivateNetworkTests {
    @Test func guestsGetAddressesAndMACsInJobOrder() throws {
        let network = PrivateNetwork(port: 40000)
        let first = try network.member(1, of: 3)
        let third = try network.member(3, of: 3)
        #expect(first.addressWithPrefix == "10.0.3.11/24")
        #expect(third.address == "10.0.3.13")
        #expect(first.mac == "52:54:00:10:03:0b")
        #expect(third.mac == "52:54:00:10:03:0d")
        #expect(first.kernelArguments == "support_host.private_address=10.0.3.11/24 support_host.private_mac=52:54:00:10:03:0b")
        let count = PrivateNetwork.maximumGuests
        let all = try (1...count).map { try network.member($0, of: count) }
        #expect(Set(all.map(\.mac)).count == count && Set(all.map(\.address)).count == count)
        #expect(all.last?.address == "10.0.3.254" && all.last?.mac == "52:54:00:10:03:fe")
    }

    @Test func guestNumbersOutsideTheNetworkAreRefused() {
        let network = PrivateNetwork(port: 40000)
        #expect(throws: PrivateNetworkError.noSuchGuest(0, 2)) { try network.member(0, of: 2) }
        #expect(throws: PrivateNetworkError.noSuchGuest(3, 2)) { try network.member(3, of: 2) }
        #expect(throws: PrivateNetworkError.tooManyGuests(245)) { try network.member(1, of: 245) }
        #expect("\(PrivateNetworkError.tooManyGuests(245))".contains("10.0.3.254"))
    }

    @Test func theCommandLineGetsASecondNICOnTheMulticastNetdevAndTheKernelItsAddress() throws {
        let member = try PrivateNetwork(port: 40123).member(2, of: 2)
        let pc = QemuGuest(arch: .x86_64, kernel: "k", initrd: "i", append: "quiet")
        let line = pc.commandLine(iso: "inj.iso", monitorSocket: "m.sock", privateNetwork: member.nic)
        let netdev = try #require(line.firstIndex(of: "socket,id=privnet,mcast=239.255.3.1:40123,localaddr=127.0.0.1"))
        #expect(line[netdev - 1] == "-netdev")
        #expect(line.contains("virtio-net-pci,netdev=privnet,mac=52:54:00:10:03:0c,romfile="))
        #expect(line.contains("virtio-net-pci,netdev=n0,romfile="), "the user-mode NIC stays, and first")
        let append = try #require(line.firstIndex(of: "-append").map { line[$0 + 1] })
        #expect(append == "console=ttyS0 loglevel=6 no_timer_check support_host.private_address=10.0.3.12/24 support_host.private_mac=52:54:00:10:03:0c quiet")
        let arm = QemuGuest(arch: .arm64, kernel: "k", initrd: "i").commandLine(iso: "inj.iso", monitorSocket: "m.sock", privateNetwork: member.nic)
        #expect(arm.contains("virtio-net-device,netdev=privnet,mac=52:54:00:10:03:0c"))
        let armAppend = try #require(arm.firstIndex(of: "-append").map { arm[$0 + 1] })
        #expect(!armAppend.contains("no_timer_check"), "a PC's kernel argument only")
        let alone = pc.commandLine(iso: "inj.iso", monitorSocket: "m.sock")
        #expect(!alone.joined(separator: " ").contains("privnet") && !alone.joined(separator: " ").contains("support_host."))
    }

    /// A guest of a job is prepared before the run has its port (`GuestKinds`): its command line
    /// has the placeholders, and what `GuestLaunch` fills in makes it the member's own.
    @Test func placeholdersFilledInGiveTheMembersOwnCommandLine() throws {
        let member = try PrivateNetwork(port: 40123).member(1, of: 2)
        for arch in QemuArch.allCases {
            let qemu = QemuGuest(arch: arch, kernel: "k", initrd: "i", append: "quiet")
            let prepared = qemu.commandLine(iso: "inj.iso", monitorSocket: "m.sock", privateNetwork: .placeholders)
            let filled = prepared.map { argument in
                member.placeholders.reduce(argument) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
            }
            #expect(filled == qemu.commandLine(iso: "inj.iso", monitorSocket: "m.sock", privateNetwork: member.nic), "\(arch)")
        }
        #expect(member.placeholders["{private_address}"] == "10.0.3.11")
        #expect(member.placeholders["{private_netdev}"] == "socket,id=privnet,mcast=239.255.3.1:40123,localaddr=127.0.0.1")
    }

    @Test func aResumedNetworkReservesItsRecordedPortAgainWhenItIsFree() throws {
        var first: PrivateNetwork? = try PrivateNetwork.reserve()
        let port = try #require(first?.port)
        let whileHeld = PrivateNetwork.resume(port: port)
        #expect(whileHeld.port == port && !whileHeld.isReserved, "the port is still the network's, held or not")
        first = nil
        let resumed = PrivateNetwork.resume(port: port)
        #expect(resumed.port == port && resumed.isReserved)
        #expect(Self.bindsLoopback(port: port) == EADDRINUSE)
        #expect(PrivateNetwork.resume(port: 70000).port == 70000, "no port to hold: kept as recorded, not a crash")
    }

    @Test func aReservedPortIsHeldUntilTheNetworkGoes() throws {
        var first: PrivateNetwork? = try PrivateNetwork.reserve()
        let second = try PrivateNetwork.reserve()
        let port = try #require(first?.port)
        #expect(port != second.port)
        #expect(port > 0 && port < 65536)
        #expect(Self.bindsLoopback(port: port) == EADDRINUSE, "another run cannot take it")
        first = nil
        #expect(Self.bindsLoopback(port: port) == 0, "released with the last copy")
    }

    @Test func framesReachTheirOwnNetworkOnlyOverTheLoopback() throws {
        let one = try PrivateNetwork.reserve()
        let other = try PrivateNetwork.reserve()
        let sender = try QemuLikeSocket(port: one.port)
        let peer = try QemuLikeSocket(port: one.port)
        let stranger = try QemuLikeSocket(port: other.port)
        try sender.send("frame for \(one.port)")
        #expect(peer.receive(timeout: 5) == "frame for \(one.port)")
        #expect(stranger.receive(timeout: 0.5) == nil, "a network on another port sees nothing")
    }

    /// 0 when a plain UDP socket can bind 127.0.0.1:port, else the errno.
    static func bindsLoopback(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0 ? 0 : errno
    }
}

/// A UDP socket set up as qemu 7.2's `net_socket_mcast_create` sets up `-netdev
/// socket,mcast=GROUP:PORT,localaddr=127.0.0.1`: SO_REUSEADDR, bound to the group's address,
/// a member of the group on 127.0.0.1, sending through 127.0.0.1 with multicast loop on.
private struct QemuLikeSocket: ~Copyable {
    let fd: Int32
    let group: sockaddr_in

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var on: Int32 = 1
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(PrivateNetwork.group)
        group = address
        var membership = ip_mreq(imr_multiaddr: in_addr(s_addr: inet_addr(PrivateNetwork.group)), imr_interface: in_addr(s_addr: inet_addr("127.0.0.1")))
        var interface = in_addr(s_addr: inet_addr("127.0.0.1"))
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ready = fd >= 0
            && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size)) == 0
            && withUnsafePointer(to: &address, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }) == 0
            && setsockopt(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &membership, socklen_t(MemoryLayout<ip_mreq>.size)) == 0
            && setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, &on, socklen_t(MemoryLayout<Int32>.size)) == 0
            && setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &interface, socklen_t(MemoryLayout<in_addr>.size)) == 0
        if !ready {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw SocketFailure(reason: "multicast socket: \(reason)")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        var target = group
        let bytes = Array(text.utf8)
        let sent = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if sent != bytes.count { throw SocketFailure(reason: "sendto: \(String(cString: strerror(errno)))") }
    }

    /// The next datagram as text, or nil when none comes within `timeout` seconds.
    func receive(timeout: Double) -> String? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 2048)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }
}

private struct SocketFailure: Error {
    let reason: String
}
