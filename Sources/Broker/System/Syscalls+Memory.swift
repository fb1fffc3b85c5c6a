import CLinux
import Glibc

extension Sys {
    /// Hands free heap pages back to the kernel (`malloc_trim(0)`, every arena).
    ///
    /// glibc gives memory back on `free` only from the top of an arena: free pages below a live
    /// allocation stay resident for good. After thousands of connections have gone, their
    /// memory is free but scattered under whatever outlived them, so resident memory would stay
    /// at the peak. `malloc_trim` walks the free chunks and drops their whole pages (MADV_DONTNEED);
    /// it locks each arena in turn, so it is called rarely (see `HeapRelease`).
    static func returnFreeHeap() {
        _ = bus_malloc_trim()
    }
}
