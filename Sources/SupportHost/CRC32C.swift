import CSupport

/// CRC-32C (Castagnoli), the checksum around each journal record.
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// Whether this CPU has the SSE4.2 instruction: reading a long journal checks every
    /// record, and the instruction is about twenty times faster than the table.
    static let hardware = csupport_crc32c_hardware() == 1

    static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// The checksum of contiguous bytes: in hardware where the CPU has it, else by the table.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard hardware, let base = bytes.baseAddress else { return software(bytes) }
        return csupport_crc32c_update(0xFFFF_FFFF, base.assumingMemoryBound(to: UInt8.self), bytes.count) ^ 0xFFFF_FFFF
    }

    /// The table's answer for contiguous bytes, whatever the CPU (tests compare the two).
    static func software(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        checksum(bytes.bindMemory(to: UInt8.self))
    }
}
