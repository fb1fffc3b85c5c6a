import BusProtocol
import Testing
@testable import Broker

/// The config file reader: BusProtocol's JSON scanner, with every refusal placed by line and
/// column and saying what was expected (the errors Foundation's JSONSerialization gave did not).
@Suite struct ConfigFileTests {
    static func parse(_ json: String) throws(ConfigError) -> ServerOptions {
        try ServerOptions.parse([], environment: [:], configFile: ConfigFile(path: "/etc/bus.json", contents: Array(json.utf8)))
    }

    static func message(_ json: String) -> String? {
        do { _ = try parse(json); return nil } catch { return error.description }
    }

    @Test(arguments: [
        ("", "/etc/bus.json: is empty: expected one JSON object ('{')"),
        ("  \n", "/etc/bus.json: is empty: expected one JSON object ('{')"),
        ("\n\n  9000", "/etc/bus.json: line 3, column 3: expected one JSON object ('{'), found '9'"),
        ("{\n  port: 9000\n}", "/etc/bus.json: line 2, column 3: expected a member name in double quotes, found 'p'"),
        ("{\"port\" 9000}", "/etc/bus.json: line 1, column 9: expected ':' after the member name, found '9'"),
        ("{\"port\": 9000,\n}", "/etc/bus.json: line 2, column 1: expected a member name in double quotes, found '}'"),
        ("{\"port\": 9000}\n{}", "/etc/bus.json: line 2, column 1: expected the end of the text after the value, found '{'"),
        ("{\"host\": [\"::1\" \"127.0.0.1\"]}", "/etc/bus.json: line 1, column 17: expected ',' or ']' after the element, found '\"'"),
        ("{\"node-name\": \"a\tb\"}", "/etc/bus.json: line 1, column 17: expected an escape such as \\n or \\u0009 instead of a control character in the string, found a tab"),
        ("{\"node-name\": \"a\\qb\"}", "/etc/bus.json: line 1, column 18: expected an escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX, found 'q'"),
        ("{\"log-level\": \"info}", "/etc/bus.json: line 1, column 21: the file ends too early: expected the closing '\"' of the string"),
        ("{\"port\": 90e}", "/etc/bus.json: line 1, column 13: expected a digit, found '}'"),
        ("{\"io-uring\": tru}", "/etc/bus.json: line 1, column 17: expected true, false or null, found '}'"),
        // Columns count characters, not bytes: the é before the typo is one column.
        ("{\"node-name\": \"café\", \"prot\": 1}", "/etc/bus.json: line 1, column 23: prot: unknown option"),
    ])
    func syntaxErrorsSayLineColumnAndWhatWasExpected(json: String, expected: String) {
        #expect(Self.message(json) == expected)
    }

    @Test func aKeyGivenTwiceIsRefusedWithBothPlaces() {
        #expect(Self.message("{\"port\": 1,\n \"port\": 2}") == "/etc/bus.json: line 2, column 2: port: set twice (first at line 1, column 2)")
        #expect(Self.message(#"{"auth": {"leeway": 1, "leeway": 2}}"#)
                == "/etc/bus.json: line 1, column 24: auth.leeway: set twice (first at line 1, column 11)")
    }

    @Test func valuesTakeTheFlagsForm() throws {
        let options = try Self.parse("""
            {"port": 9.0e2, "loops": 2, "idle-timeout": 1e1, "close-timeout": 0.5,
             "host": "::1", "allowed-origin": ["https://a.example", "https://b.example"],
             "node-name": "n\\u00e9", "auth": {"tokens": [{"token": "0123456789abcdef", "subscribe": ["a.>"]}]}}
            """)
        #expect(options.config.port == 900)
        #expect(options.config.loops == 2)
        #expect(options.config.idleTimeout == 10)
        #expect(options.config.closeTimeout == 0.5)
        #expect(options.config.hosts == ["::1"])
        #expect(options.config.allowedOrigins == ["https://a.example", "https://b.example"])
        #expect(options.config.nodeName == "né")
        #expect(options.config.auth.tokens.count == 1)
    }

    @Test func aLoneSurrogateIsNoText() {
        #expect(Self.message(#"{"node-name": "\ud800"}"#)
                == "/etc/bus.json: line 1, column 15: node-name: must be Unicode text (a \\u escape names half a surrogate pair)")
    }

    @Test func missingAndUnreadableFilesSaySo() {
        func message(_ path: String) -> String? {
            do { _ = try ServerOptions.load(["--config", path], environment: [:]); return nil } catch { return error.description }
        }
        #expect(message("/nonexistent/bus.json") == "--config: '/nonexistent/bus.json' does not exist")
        #expect(message("/") == "--config: '/' cannot be read: Is a directory")
        // An endless file is refused at the bound instead of exhausting memory (it crashed).
        #expect(message("/dev/zero") == "--config: '/dev/zero' is larger than 16 MiB (is it the right file?)")
    }

    @Test func aFileIsReadUpToItsBoundAndNoFurther() throws {
        #expect(throws: Sys.FileReadFailure.self) { try Sys.readWholeFile("/dev/zero", limit: 1 << 16) }
        #expect(try Sys.readWholeFile("/proc/self/status", limit: 1 << 16).count > 0)
    }

    @Test func filesAreReadWholeWhateverTheirSize() throws {
        // /proc files report size 0; the reader goes to end of file, not to st_size.
        let status = try Sys.readWholeFile("/proc/self/status")
        #expect(String(decoding: status, as: UTF8.self).contains("VmRSS:"))
        #expect(try Sys.readWholeFile("/dev/null").isEmpty)
        #expect(throws: Sys.FileReadFailure.self) { try Sys.readWholeFile("/nonexistent") }
    }

    @Test func theEnvironmentIsReadFromEnviron() {
        let environment = Sys.environment()
        #expect(environment["PATH"] == Sys.environment("PATH"))
        #expect(!environment.isEmpty)
    }
}
