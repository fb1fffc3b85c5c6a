/// `/metrics` families for history on disk (`--data-dir` only; nothing otherwise).
extension MetricsExposition {
    static func render(store: DurableStore?) -> String {
        guard let store else { return "" }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: UInt64) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        family("bus_history_store_degraded", "gauge",
               "1 once history on disk fell back to memory (full disk, I/O error, writer behind) until the next start.",
               store.isDegraded ? 1 : 0)
        family("bus_history_store_records_total", "counter", "History records handed to the writer (messages and positions).",
               store.recordsWritten.load(ordering: .relaxed))
        family("bus_history_store_bytes_written_total", "counter", "Bytes of history records written to the data directory.",
               store.bytesWritten.load(ordering: .relaxed))
        family("bus_history_store_syncs_total", "counter", "fdatasync calls made before delivering (durability fsync).",
               store.syncs.load(ordering: .relaxed))
        family("bus_history_store_queued_bytes", "gauge", "Bytes handed to the history writer and not yet written.",
               UInt64(max(0, store.queuedBytes.load(ordering: .relaxed))))
        out += "# HELP bus_history_store_startup_seconds Time start-up took to read, check and compact the data directory.\n"
            + "# TYPE bus_history_store_startup_seconds gauge\nbus_history_store_startup_seconds \(seconds(store.startup.nanos))\n"
        return out
    }
}
