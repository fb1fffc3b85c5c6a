import CLinux
import Glibc

/// epoll's event bits and control operations under names of their own, so the loops that use
/// epoll (Broker's `EventLoop` and `Backplane`, BusBench's `ClientLoop`) import neither Glibc
/// nor CLinux.
package enum Epoll {
    /// One ready descriptor as `epoll_wait` reports it: `events` and the `data.u64` token.
    package typealias Event = epoll_event

    package static let add = EPOLL_CTL_ADD
    package static let modify = EPOLL_CTL_MOD
    package static let delete = EPOLL_CTL_DEL

    package static let readable: UInt32 = EPOLLIN.rawValue
    package static let writable: UInt32 = EPOLLOUT.rawValue
    package static let error: UInt32 = EPOLLERR.rawValue
    package static let hangUp: UInt32 = EPOLLHUP.rawValue
    /// The peer shut its side down. Glibc's Swift module hides EPOLLRDHUP (it needs
    /// _GNU_SOURCE); the CLinux shim hands it over.
    package static let peerHangUp: UInt32 = bus_epollrdhup()
    /// Wake one waiter, not all (a listening socket shared by every loop).
    package static let exclusive: UInt32 = bus_epollexclusive()

    /// A connection's interest: always the peer's hang-up, plus input and output as wanted.
    @inline(__always)
    package static func interest(readable wantsInput: Bool, writable wantsOutput: Bool) -> UInt32 {
        var mask = peerHangUp
        if wantsInput { mask |= readable }
        if wantsOutput { mask |= writable }
        return mask
    }
}

extension Sys {
    package static func epollCreate() throws -> Int32 {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        if fd < 0 { throw SystemError(call: "epoll_create1", errno: errno) }
        return fd
    }

    package static func epollControl(_ epoll: Int32, _ op: Int32, _ fd: Int32, events: UInt32, data: UInt64) throws {
        var event = epoll_event()
        event.events = events
        event.data.u64 = data
        if epoll_ctl(epoll, op, fd, &event) != 0 { throw SystemError(call: "epoll_ctl", errno: errno) }
    }

    package static func epollWait(_ epoll: Int32, _ events: UnsafeMutablePointer<Epoll.Event>, capacity: Int32, timeoutMs: Int32) -> Int {
        let n = epoll_wait(epoll, events, capacity, timeoutMs)
        return n < 0 ? 0 : Int(n)  // EINTR: the loop goes round and waits again
    }
}
