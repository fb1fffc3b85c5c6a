/// Renders the loops' snapshots as `GET /metrics`: the Prometheus text exposition format 0.0.4
/// (`# HELP`, `# TYPE`, then samples; histograms as cumulative `_bucket{le=…}` lines, `_sum` and
/// `_count`). Server-wide families add the loops up; the loop's own families keep a `loop`
/// label, so one hot loop stands out.
enum MetricsExposition {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ snapshots: [LoopSnapshot]) -> String {
        let loops = snapshots.sorted { $0.loop < $1.loop }
        var total = LoopMetrics()
        for snapshot in loops {
            let m = snapshot.metrics
            total.connectionsAccepted &+= m.connectionsAccepted
            total.connectionsRefused &+= m.connectionsRefused
            total.published = total.published + m.published
            total.publishedBytes = total.publishedBytes + m.publishedBytes
            total.delivered = total.delivered + m.delivered
            total.deliveredBytes = total.deliveredBytes + m.deliveredBytes
            total.slowConsumerDrops &+= m.slowConsumerDrops
            total.compressedMessages &+= m.compressedMessages
            total.compressionSkipped &+= m.compressionSkipped
            total.compressionNanos &+= m.compressionNanos
            total.compressionSavedBytes &+= m.compressionSavedBytes
            total.eventStreamsOpened &+= m.eventStreamsOpened
            total.authFailures &+= m.authFailures
            total.permissionDenied &+= m.permissionDenied
            total.rateLimited &+= m.rateLimited
            total.backlogPauses &+= m.backlogPauses
            total.floodCloses &+= m.floodCloses
            total.queueDepth.merge(m.queueDepth)
            total.deliveryNanos.merge(m.deliveryNanos)
        }
        var out = Writer()
        out.gauge("bus_loops", "Event loop threads.", UInt64(loops.count))
        out.gauge("bus_connections", "Open client connections (WebSocket and plain HTTP).",
                  UInt64(loops.reduce(0) { $0 + $1.connections }))
        out.gauge("bus_sse_streams", "Open Server-Sent Events streams (GET /sse), also counted in bus_connections.",
                  UInt64(loops.reduce(0) { $0 + $1.eventStreams }))
        out.counter("bus_sse_streams_opened_total", "Server-Sent Events streams started.", total.eventStreamsOpened)
        out.counter("bus_connections_accepted_total", "Connections accepted.", total.connectionsAccepted)
        out.counter("bus_connections_refused_total", "Connections refused with 503 at the connection limit.",
                    total.connectionsRefused)
        out.gauge("bus_subscriptions", "Subscriptions held by connections (one per pattern per connection).",
                  UInt64(loops.reduce(0) { $0 + $1.subscriptions }))
        out.gauge("bus_topics", "Topic states held (epoch and sequence number), at most max-topics.",
                  UInt64(loops.reduce(0) { $0 + $1.topics }))
        out.gauge("bus_history_messages", "Messages retained as topic history.",
                  UInt64(loops.reduce(0) { $0 + $1.historyMessages }))
        out.gauge("bus_history_bytes",
                  "Bytes of retained history: frames and the encodings kept with them (budget: history-bytes).",
                  UInt64(loops.reduce(0) { $0 + $1.historyBytes }))
        out.gauge("bus_send_queue_bytes", "Bytes queued for clients' sockets, all connections (budget: max-queued-bytes).",
                  UInt64(loops.reduce(0) { $0 + $1.queuedBytes }))
        out.gauge("bus_reassembly_bytes", "Bytes of partly received messages, all connections (budget: max-reassembly-bytes).",
                  UInt64(loops.reduce(0) { $0 + $1.reassemblyBytes }))
        out.byKind("bus_messages_published_total", "Messages published (sequenced), by payload kind.", total.published)
        out.byKind("bus_published_bytes_total", "Payload bytes of the messages published, by payload kind.", total.publishedBytes)
        out.byKind("bus_messages_delivered_total", "Messages queued to subscribers (one per subscriber), by payload kind.",
                   total.delivered)
        out.byKind("bus_delivered_bytes_total", "Bytes of the frames queued to subscribers, by payload kind.", total.deliveredBytes)
        out.counter("bus_compressed_messages_total",
                    "Messages compressed for permessage-deflate (once per message and window size, whatever the fan-out).",
                    total.compressedMessages)
        out.counter("bus_compression_skipped_total",
                    "Messages tried for permessage-deflate but sent plain (not smaller, or an excluded topic).",
                    total.compressionSkipped)
        out.family("bus_compression_seconds_total", "counter", "Time spent compressing messages for permessage-deflate.")
        out.sample("bus_compression_seconds_total", "", MetricsExposition.seconds(total.compressionNanos))
        out.counter("bus_compression_saved_bytes_total",
                    "Wire bytes saved by compressed frames, per delivery (bus_delivered_bytes_total counts uncompressed frames).",
                    total.compressionSavedBytes)
        out.counter("bus_slow_consumer_drops_total", "Subscribers dropped (close 4008) because their send queue overflowed.",
                    total.slowConsumerDrops)
        out.gauge("bus_slow_consumers_closing",
                  "Slow consumers dropped whose notice and close frame are still on their way (at most slow-consumer-grace).",
                  UInt64(loops.reduce(0) { $0 + $1.slowConsumersClosing }))
        out.counter("bus_backlog_pauses_total",
                    "Times the server stopped reading a connection whose send queue was half full (it asks faster than it reads).",
                    total.backlogPauses)
        out.counter("bus_flood_closes_total", "Connections closed (1008) after too many refused requests in a row.",
                    total.floodCloses)
        out.counter("bus_rate_limited_total", "Requests refused (rate_limited) for going over a connection's rate.",
                    total.rateLimited)
        out.counter("bus_auth_failures_total", "Requests refused with 401 for a missing, invalid or expired token.", total.authFailures)
        out.counter("bus_permission_denied_total", "Subscribes and publishes refused because the token does not cover the topic.",
                    total.permissionDenied)
        out.histogram("bus_send_queue_depth_messages", "Messages queued for a connection when it is flushed.",
                      [("", total.queueDepth)], seconds: false)
        out.histogram("bus_delivery_latency_seconds",
                      "From a publish's arrival to its bytes written to a subscriber's socket, one sample per write batch.",
                      [("", total.deliveryNanos)], seconds: true)
        out.family("bus_loop_iterations_total", "counter", "Turns of each event loop (one epoll_wait each).")
        for snapshot in loops {
            out.sample("bus_loop_iterations_total", "loop=\"\(snapshot.loop)\"", String(snapshot.metrics.iterations))
        }
        out.histogram("bus_loop_turn_seconds", "Time each event loop turn spent working (events, timers, flushes).",
                      loops.map { ("loop=\"\($0.loop)\"", $0.metrics.turnNanos) }, seconds: true)
        return out.text
    }

    /// Nanoseconds as exact decimal seconds (`25000` → `0.000025`), with no floating-point noise.
    static func seconds(_ nanos: UInt64) -> String {
        let whole = nanos / 1_000_000_000
        var fraction = String(nanos % 1_000_000_000)
        guard fraction != "0" else { return String(whole) }
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }

    private struct Writer {
        var text = ""

        mutating func family(_ name: String, _ type: String, _ help: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }

        mutating func sample(_ name: String, _ labels: String, _ value: String) {
            text += labels.isEmpty ? "\(name) \(value)\n" : "\(name){\(labels)} \(value)\n"
        }

        mutating func gauge(_ name: String, _ help: String, _ value: UInt64) {
            family(name, "gauge", help)
            sample(name, "", String(value))
        }

        mutating func counter(_ name: String, _ help: String, _ value: UInt64) {
            family(name, "counter", help)
            sample(name, "", String(value))
        }

        mutating func byKind(_ name: String, _ help: String, _ values: ByKind) {
            family(name, "counter", help)
            sample(name, "kind=\"json\"", String(values.json))
            sample(name, "kind=\"binary\"", String(values.binary))
        }

        /// One histogram family; each entry is a label set (possibly empty) and its histogram.
        mutating func histogram(_ name: String, _ help: String, _ series: [(String, Histogram)], seconds: Bool) {
            family(name, "histogram", help)
            func format(_ value: UInt64) -> String { seconds ? MetricsExposition.seconds(value) : String(value) }
            for (labels, histogram) in series {
                let prefix = labels.isEmpty ? "" : labels + ","
                var cumulative: UInt64 = 0
                for (index, bound) in histogram.bounds.enumerated() {
                    cumulative &+= histogram.counts[index]
                    sample(name + "_bucket", "\(prefix)le=\"\(format(bound))\"", String(cumulative))
                }
                cumulative &+= histogram.counts[histogram.bounds.count]
                sample(name + "_bucket", "\(prefix)le=\"+Inf\"", String(cumulative))
                sample(name + "_sum", labels, format(histogram.sum))
                sample(name + "_count", labels, String(cumulative))
            }
        }
    }
}
