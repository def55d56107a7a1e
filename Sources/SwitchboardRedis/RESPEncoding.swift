/// Requests in Redis's wire format (RESP: `*<n>\r\n` then `$<len>\r\n<bytes>\r\n` per argument), written straight into
/// one byte buffer. hiredis's `redisFormatCommandArgv` does the same through a flattened argv copy and `sprintf` per
/// header, which showed in a one-job enqueue's profile; the format is small and fixed, so it is written here.
enum RESPEncoding {
    /// Appends `command` to `out`.
    static func append(_ command: [RedisArgument], to out: inout [UInt8]) {
        header(UInt8(ascii: "*"), command.count, &out)
        for argument in command {
            header(UInt8(ascii: "$"), argument.bytes.count, &out)
            out.append(contentsOf: argument.bytes)
            out.append(13)
            out.append(10)
        }
    }

    /// The bytes `commands` take on the wire.
    static func encode(_ commands: [[RedisArgument]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(commands.reduce(0) { total, command in command.reduce(total + 16) { $0 + $1.bytes.count + 16 } })
        for command in commands { append(command, to: &out) }
        return out
    }

    private static func header(_ mark: UInt8, _ n: Int, _ out: inout [UInt8]) {
        out.append(mark)
        var digits = 1
        var power = 10
        while power <= n {
            digits += 1
            power &*= 10
        }
        let start = out.count
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
        var value = n
        var i = start + digits - 1
        while i >= start {
            out[i] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
            i -= 1
        }
        out.append(13)
        out.append(10)
    }
}
