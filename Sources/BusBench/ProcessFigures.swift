import Foundation
import SystemCalls

/// What `/proc` says about a process at one moment: CPU time (utime + stime from
/// `/proc/PID/stat`), resident memory (`VmRSS` of `/proc/PID/status`) and open descriptors
/// (entries of `/proc/PID/fd`). Differences of two samples give a window's figures.
struct ProcessFigures {
    /// User plus system CPU time, in nanoseconds (clock-tick resolution, usually 10 ms).
    var cpuNanos: UInt64
    var rssBytes: Int
    /// The anonymous part of RSS (heap, stacks): what the server allocated, without the
    /// library pages it has touched so far, which grow as new code paths run.
    var anonymousBytes: Int
    var openFDs: Int
    var at: UInt64

    static let ticksPerSecond = UInt64(max(1, BenchSys.clockTicksPerSecond()))

    /// Nil once the process is gone.
    static func sample(pid: Int32) -> ProcessFigures? {
        let now = BenchClock.now()
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let cpu = parseCPUTicks(stat) else { return nil }
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return ProcessFigures(cpuNanos: cpu * 1_000_000_000 / ticksPerSecond, rssBytes: parseRSS(status),
                              anonymousBytes: parseRSS(status, field: "RssAnon:"), openFDs: countFDs(pid: pid), at: now)
    }

    /// Fields 14 and 15 (utime, stime) of `/proc/PID/stat`, counted after the `)` that ends
    /// the command name (which may itself hold spaces).
    static func parseCPUTicks(_ stat: String) -> UInt64? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return user + system
    }

    /// `VmRSS:   1234 kB` (or another field's) in bytes; 0 when absent.
    static func parseRSS(_ status: String, field: String = "VmRSS:") -> Int {
        for line in status.split(separator: "\n") where line.hasPrefix(field) {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return digits * 1024
        }
        return 0
    }

    static func countFDs(pid: Int32) -> Int {
        guard let dir = opendir("/proc/\(pid)/fd") else { return -1 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            if entry.pointee.d_name.0 != 46 { count += 1 }  // not "." or ".."
        }
        return count
    }

    /// The 1-minute load average, to print beside figures taken on a shared machine.
    static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return -1 }
        return text.split(separator: " ").first.flatMap { Double($0) } ?? -1
    }
}

/// CLOCK_MONOTONIC nanoseconds: the clock every timestamp in a payload uses.
enum BenchClock {
    @inline(__always)
    static func now() -> UInt64 { Sys.monotonicNanos() }
}
