#if canImport(FoundationEssentials)
import FoundationEssentials
#elseif canImport(Foundation)
import Foundation  // Darwin: FoundationEssentials is part of Foundation there (unverified in CI).
#endif

extension BusClient {
    /// Publishes any `Encodable` as JSON (`JSONEncoder`'s output, passed through as `data`).
    @discardableResult
    public func publish<Value: Encodable>(_ topic: String, value: Value, encoder: JSONEncoder = JSONEncoder()) async throws(BusClientError) -> PublishAck {
        let bytes: [UInt8]
        do { bytes = Array(try encoder.encode(value)) } catch { throw .invalidJSON }
        return try await publish(topic, jsonBytes: bytes)
    }
}

extension BusMessage {
    /// Decodes a JSON payload; nil for a binary one.
    public func decode<Value: Decodable>(_ type: Value.Type, decoder: JSONDecoder = JSONDecoder()) throws -> Value? {
        guard case .json(let bytes) = payload else { return nil }
        return try decoder.decode(type, from: Data(bytes))
    }
}
