public import Glibc

/// Why ``freeLoopbackPort()`` found no port.
public struct LoopbackPortError: Error, CustomStringConvertible {
    public let errno: Int32
    public var description: String { "no free loopback TCP port (errno \(errno)): check the open-file limit and the ephemeral port range" }
}

/// A loopback TCP port nothing listens on now, for a child server the caller is about to start (`web`, a
/// `redis-server`, a fake provider): port 0 is bound, its number read, and the socket closed. Another process can take
/// the port in between; callers that start a server on it fail loudly and retry.
public func freeLoopbackPort() throws(LoopbackPortError) -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw LoopbackPortError(errno: Glibc.errno) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw LoopbackPortError(errno: Glibc.errno) }
    return Int(UInt16(bigEndian: address.sin_port))
}
