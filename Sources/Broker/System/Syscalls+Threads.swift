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
