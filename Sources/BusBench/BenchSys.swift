import Glibc

/// The only libc calls of BusBench: the few the benchmark needs beyond SystemCalls' `Sys`
/// (which it shares with Broker). Kept here so `Sys` stays the list both sides use.
enum BenchSys {
    /// A small kernel receive buffer makes a stalled reader back up into the server's queue
    /// within seconds instead of minutes (the `slow` scenario). Set before connecting.
    static func setReceiveBuffer(_ fd: Int32, _ size: Int) {
        var value = Int32(clamping: size)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// This executable's directory, from `/proc/self/exe` (works whatever the working directory).
    static func executableDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }

    /// Clock ticks per second: the unit of utime and stime in `/proc/PID/stat`.
    static func clockTicksPerSecond() -> Int { sysconf(Int32(_SC_CLK_TCK)) }

    static func sleep(microseconds: UInt32) { _ = usleep(microseconds) }

    /// Asks the process to stop (SIGTERM), or makes it (`force`: SIGKILL).
    static func signal(_ pid: Int32, force: Bool) { _ = kill(pid, force ? SIGKILL : SIGTERM) }

    /// The names in a directory (without `.` and `..`); nil when `path` is not one.
    static func directoryEntries(_ path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// A whole file's bytes; nil when it cannot be read.
    static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n > 0 { bytes += chunk[0..<n] }
            if n < chunk.count { break }
        }
        return ferror(file) == 0 ? bytes : nil
    }
}
