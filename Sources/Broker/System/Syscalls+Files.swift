import Glibc

/// The file system calls of the history store (`History/Durable`), made only on its writer
/// thread and at start-up, never on an event loop. Every call retries EINTR; failures come back
/// as errno values or `SystemError`s, so the store decides what each one means (ENOSPC, EROFS,
/// EIO and EFBIG degrade history to memory; at start-up any failure stops the server).
extension Sys {
    /// Creates `path` as a directory with mode 0700 if absent, and sets 0700 if it exists
    /// (history holds every retained message: readable by the broker's user only).
    package static func makePrivateDirectory(_ path: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw SystemError(call: "mkdir \(path)", errno: errno) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw SystemError(call: "stat \(path)", errno: errno) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw SystemError(call: "\(path) is not a directory", errno: ENOTDIR) }
        if chmod(path, 0o700) != 0 { throw SystemError(call: "chmod \(path)", errno: errno) }
    }

    /// Opens (creating, mode 0600) a file for reading and writing.
    package static func openPrivateFile(_ path: String, truncate: Bool = false) throws -> Int32 {
        let flags = O_RDWR | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0)
        let (fd, code) = retrying { Int(open(path, flags, 0o600)) }
        if fd < 0 { throw SystemError(call: "open \(path)", errno: code) }
        _ = fchmod(Int32(fd), 0o600)
        return Int32(fd)
    }

    /// An exclusive `flock` on `fd`, not waiting: false when another process holds it.
    package static func tryLock(_ fd: Int32) throws -> Bool {
        let (rc, code) = retrying { Int(flock(fd, LOCK_EX | LOCK_NB)) }
        if rc == 0 { return true }
        if code == EWOULDBLOCK { return false }
        throw SystemError(call: "flock", errno: code)
    }

    /// Writes all of `bytes` at the file's current offset; 0 or the errno that stopped it.
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let (n, code) = retrying { Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
            if n < 0 { return code }
            if n == 0 { return EIO }
            offset += n
        }
        return 0
    }

    /// Writes all of `bytes` at `offset` (the meta file, rewritten in place).
    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int) -> Int32 {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let (n, code) = retrying { pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done)) }
                if n < 0 { return code }
                if n == 0 { return EIO }
                done += n
            }
            return 0
        }
    }

    /// `fdatasync`: 0 or errno.
    package static func dataSync(_ fd: Int32) -> Int32 {
        let (rc, code) = retrying { Int(fdatasync(fd)) }
        return rc == 0 ? 0 : code
    }

    /// fsyncs a directory, so the names created or removed in it survive a power loss.
    package static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        Glibc.close(fd)
    }

    /// The whole file, or nil if it cannot be read. Start-up only.
    package static func readFile(_ path: String) -> [UInt8]? {
        try? readWholeFile(path)
    }

    /// Why `readWholeFile` failed, in the words of a start-up error: "'PATH' does not exist".
    package enum FileReadFailure: Error, CustomStringConvertible {
        case missing
        case unreadable(errno: Int32)
        case tooLarge(limit: Int)

        package var description: String {
            switch self {
            case .missing: "does not exist"
            case .unreadable(let code): "cannot be read: \(String(cString: strerror(code)))"
            case .tooLarge(let limit): "is larger than \(limit >> 20) MiB (is it the right file?)"
            }
        }
    }

    /// The whole file (the config file, a secret file, history metadata). Reads until end of
    /// file rather than trusting `st_size`, so files in /proc and pipes read whole too. Start-up only.
    /// At most `limit` bytes are read: /dev/zero, a sparse or runaway file ends with
    /// `.tooLarge` instead of exhausting memory.
    package static func readWholeFile(_ path: String, limit: Int = maxReadWholeFile) throws(FileReadFailure) -> [UInt8] {
        let (fd, openError) = retrying { Int(open(path, O_RDONLY | O_CLOEXEC)) }
        guard fd >= 0 else { throw openError == ENOENT ? .missing : .unreadable(errno: openError) }
        defer { Glibc.close(Int32(fd)) }
        var info = stat()
        let size = fstat(Int32(fd), &info) == 0 ? Int(info.st_size) : 0
        if size > limit { throw .tooLarge(limit: limit) }
        var out = [UInt8](repeating: 0, count: size > 0 ? size + 1 : 4096)
        var done = 0
        while true {
            if done == out.count {
                if done > limit { throw .tooLarge(limit: limit) }
                out.append(contentsOf: repeatElement(0, count: out.count))
            }
            let (n, code) = out.withUnsafeMutableBytes { raw in retrying { Glibc.read(Int32(fd), raw.baseAddress! + done, raw.count - done) } }
            if n < 0 { throw .unreadable(errno: code) }
            if n == 0 { break }
            done += n
        }
        out.removeLast(out.count - done)
        return out
    }

    /// What `readWholeFile` reads at most: a config file, a secret, history metadata.
    package static let maxReadWholeFile = 16 << 20

    /// Runs `body` on the file's bytes mapped read-only (start-up reads segments this way:
    /// clean page-cache pages, not a copy on the heap); nil if the file cannot be read.
    package static func withMappedFile<R>(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let size = Int(info.st_size)
        if size == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else { return nil }
        defer { munmap(address, size) }
        _ = madvise(address, size, MADV_SEQUENTIAL)
        return try body(UnsafeRawBufferPointer(start: address, count: size))
    }

    package static func truncateFile(_ path: String, to length: Int) throws {
        if truncate(path, off_t(length)) != 0 { throw SystemError(call: "truncate \(path)", errno: errno) }
    }

    package static func fileSize(_ path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }

    package static func removeFile(_ path: String) { _ = unlink(path) }

    /// Names in a directory (no `.` or `..`).
    package static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw SystemError(call: "opendir \(path)", errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Wall-clock time, nanoseconds since the Unix epoch (what history records persist).
    package static func wallClockNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`): the page cache survives a crash of
    /// the process, not a restart of the machine.
    package static func bootID() -> String {
        let bytes = readFile("/proc/sys/kernel/random/boot_id") ?? []
        return String(decoding: bytes.prefix { $0 != 0x0A }, as: UTF8.self)
    }

    /// A file past `RLIMIT_FSIZE` raises SIGXFSZ, which kills by default: ignored, the write
    /// fails with EFBIG instead and history degrades to memory.
    package static func ignoreFileSizeSignal() { _ = signal(SIGXFSZ, SIG_IGN) }

    /// An environment variable (the store's test-only fault seams).
    package static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// The whole environment (`environ`), for the options' `BUS_*` variables. A variable
    /// given twice keeps its first value, as `getenv` would return.
    package static func environment() -> [String: String] {
        var variables: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                let name = String(text[..<equals])
                if variables[name] == nil { variables[name] = String(text[text.index(after: equals)...]) }
            }
            entry += 1
        }
        return variables
    }
}
