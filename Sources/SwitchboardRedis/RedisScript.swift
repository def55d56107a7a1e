import Crypto

/// A Lua script run with EVALSHA. When the server does not know it (a restart or SCRIPT FLUSH),
/// ``RedisConnection/evaluate(_:keys:arguments:)`` loads it with SCRIPT LOAD and retries once.
public struct RedisScript: Sendable, Hashable {
    /// A short name used in errors and logs.
    public let name: String
    public let source: String
    /// Lowercase hex SHA-1 of ``source``, as Redis computes it.
    public let sha1: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The EVALSHA command that runs this script.
    public func call(keys: [RedisArgument], arguments: [RedisArgument]) -> [RedisArgument] {
        ["EVALSHA", .string(sha1), .int(keys.count)] + keys + arguments
    }

    /// The same call with the whole source (EVAL): runs even when the server's script cache was just flushed, and
    /// caches the script again for the EVALSHA calls after it.
    func sourceCall(keys: [RedisArgument], arguments: [RedisArgument]) -> [RedisArgument] {
        ["EVAL", .string(source), .int(keys.count)] + keys + arguments
    }
}
