import CLinux
import Glibc

extension Sys {
    /// Blocks SIGINT, SIGTERM and SIGPIPE in the calling thread (threads created later inherit
    /// the mask) and returns a signalfd that reads SIGINT and SIGTERM, or -1.
    package static func blockSignalsAndOpenSignalFD() -> Int32 { bus_block_signals_and_open_signalfd() }

    /// A signal that asks the server to stop.
    package enum StopSignal: String {
        case interrupt = "SIGINT"
        case terminate = "SIGTERM"
    }

    /// Waits for the next signal on `signalFD`; nil for any other signal or a failed read.
    package static func waitForStopSignal(_ signalFD: Int32) -> StopSignal? {
        _ = waitReadable(signalFD, timeoutMs: -1)
        switch bus_read_signalfd(signalFD) {
        case SIGINT: return .interrupt
        case SIGTERM: return .terminate
        default: return nil
        }
    }
}
