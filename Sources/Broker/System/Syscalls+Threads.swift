import CLinux
import Glibc

extension Sys {
    /// Starts `body` on a detached thread named `name` (what `top -H` and `/proc/PID/task/*/comm`
    /// show; Linux keeps 15 bytes) with a stack of `stackSize` bytes. The event loops run on
    /// these: plain pthreads, so the server needs no Foundation `Thread`.
    package static func startThread(name: String, stackSize: Int, _ body: @escaping @Sendable () -> Void) throws {
        /// Carries the closure through `pthread_create`'s `void *`; the new thread takes it.
        final class Box: @unchecked Sendable { // immutable after init; handed over once
            let name: String
            let body: @Sendable () -> Void
            init(_ name: String, _ body: @escaping @Sendable () -> Void) { self.name = name; self.body = body }
        }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let box = Unmanaged.passRetained(Box(name, body)).toOpaque()
        var thread = pthread_t()
        let code = pthread_create(&thread, &attributes, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            bus_set_thread_name(box.name)
            box.body()
            return nil
        }, box)
        if code != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemError(call: "pthread_create", errno: code)
        }
    }
}

/// A count that threads wait on until it reaches zero: the loops' start and stop. pthreads
/// rather than Dispatch, so starting the server does not wake libdispatch up (its pages were
/// part of the process's memory at start).
package final class CountdownLatch: @unchecked Sendable {  // every access under `mutex`
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var count: Int

    package init(count: Int) {
        self.count = count
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    package func countDown() {
        pthread_mutex_lock(mutex)
        count -= 1
        if count <= 0 { pthread_cond_broadcast(condition) }
        pthread_mutex_unlock(mutex)
    }

    /// Returns once the count is zero (at once if it is already).
    package func wait() {
        pthread_mutex_lock(mutex)
        while count > 0 { pthread_cond_wait(condition, mutex) }
        pthread_mutex_unlock(mutex)
    }
}
