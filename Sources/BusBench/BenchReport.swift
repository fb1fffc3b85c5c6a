import BusProtocol
import Foundation

/// A scenario's figures: printed as an aligned table for people, then as one JSON line
/// (every figure, same keys each run) for scripts.
package struct BenchReport {
    enum Value {
        case int(Int)
        case number(Double, digits: Int)
        case text(String)
        case flag(Bool)

        var display: String {
            switch self {
            case .int(let v): return Self.grouped(v)
            case .number(let v, let digits) where digits == 0 && v.isFinite && abs(v) < 1e15:
                return Self.grouped(Int(v.rounded()))
            case .number(let v, let digits): return v.isFinite ? String(format: "%.\(digits)f", v) : "-"
            case .text(let v): return v
            case .flag(let v): return v ? "yes" : "no"
            }
        }

        var json: String {
            switch self {
            case .int(let v): return String(v)
            case .number(let v, let digits): return v.isFinite ? String(format: "%.\(digits)f", v) : "null"
            case .text(let v): return Self.quoted(v)
            case .flag(let v): return v ? "true" : "false"
            }
        }

        static func grouped(_ value: Int) -> String {
            let digits = String(value.magnitude)
            var out = ""
            for (index, char) in digits.enumerated() {
                if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
                out.append(char)
            }
            return value < 0 ? "-" + out : out
        }

        static func quoted(_ text: String) -> String { JSONText.quoted(text) }
    }

    struct Row {
        let key: String
        let label: String
        let value: Value
        let unit: String
    }

    let scenario: String
    private(set) var rows: [Row] = []
    /// Why the run does not count: anything lost, a subscriber that should not have been
    /// dropped, a setup that did not complete. Empty means the scenario passed.
    private(set) var failures: [String] = []
    /// Remarks printed under the table (not failures).
    private(set) var notes: [String] = []

    init(scenario: String) { self.scenario = scenario }

    mutating func add(_ key: String, _ label: String, _ value: Value, _ unit: String = "") {
        rows.append(Row(key: key, label: label, value: value, unit: unit))
    }

    mutating func fail(_ why: String) { failures.append(why) }

    /// Adds another report's rows (figures taken earlier, e.g. before the connections closed).
    mutating func append(_ other: BenchReport) { rows += other.rows }
    mutating func note(_ text: String) { notes.append(text) }

    package var passed: Bool { failures.isEmpty }

    package func table() -> String {
        let width = (rows.map(\.label.count).max() ?? 0) + 2
        var out = "bus-cli bench \(scenario)\n"
        for row in rows {
            let padding = String(repeating: " ", count: max(1, width - row.label.count))
            out += "  \(row.label)\(padding)\(row.value.display)\(row.unit.isEmpty ? "" : " " + row.unit)\n"
        }
        for note in notes { out += "  note: \(note)\n" }
        out += passed ? "  result: ok\n" : failures.map { "  FAILED: \($0)\n" }.joined()
        return out
    }

    package func jsonLine() -> String {
        var members = ["\"scenario\":\(Value.quoted(scenario))", "\"ok\":\(passed)"]
        members += rows.map { "\(Value.quoted($0.key)):\($0.value.json)" }
        members.append("\"failures\":[\(failures.map(Value.quoted).joined(separator: ","))]")
        return "{" + members.joined(separator: ",") + "}"
    }
}
