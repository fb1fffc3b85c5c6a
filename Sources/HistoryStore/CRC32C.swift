/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of iSCSI (RFC 3720
/// §12.1), ext4 metadata and LevelDB's log records. Ours rather than zlib's CRC-32 because no
/// package may be added, and Castagnoli detects more of the error patterns disks produce at
/// these record sizes. Table-driven, one byte at a time: start-up reads a full history budget
/// at a few hundred MB/s, far from the bottleneck.
public enum CRC32C {
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// The checksum of `bytes`, continuing from `crc` (the value of the bytes before them).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var value = ~crc
        table.withUnsafeBufferPointer { table in
            for byte in bytes { value = table[Int((value ^ UInt32(byte)) & 0xFF)] ^ (value >> 8) }
        }
        return ~value
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }
}
