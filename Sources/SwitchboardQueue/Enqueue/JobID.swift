import Synchronization

/// Job ids: a random (version 4) UUID as lower-case text, built with a hex table rather than Foundation's `UUID`, whose
/// code path is several times longer. Ids come from xoshiro256** seeded by the system generator, not from a
/// `getrandom` call per draw: that system call was an eighth of a bulk enqueue's CPU, and two of a one-job enqueue's
/// five. A batch seeds a generator of its own; single ids share one per process, seeded on first use. Ids need to be
/// unique, not secret: 122 random bits from a generator seeded with 256 do that.
enum JobID {
    private static let hex = Array("0123456789abcdef".utf8)
    private static let shared = Mutex(Xoshiro256(seededBy: SystemRandomNumberGenerator()))

    static func make() -> String {
        let (high, low) = shared.withLock { g in (g.next(), g.next()) }
        return text(high, low)
    }

    /// `count` ids.
    static func make(count: Int) -> [String] {
        if count <= 2 { return (0..<count).map { _ in make() } }
        var generator = Xoshiro256(seededBy: SystemRandomNumberGenerator())
        return (0..<count).map { _ in text(generator.next(), generator.next()) }
    }

    private static func text(_ high: UInt64, _ low: UInt64) -> String {
        let high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000  // version 4
        let low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // RFC 4122 variant
        return String(unsafeUninitializedCapacity: 36) { out in
            var i = 0
            func put(_ value: UInt64, nibbles: ClosedRange<Int>) {
                for n in nibbles.reversed() {
                    if i == 8 || i == 13 || i == 18 || i == 23 {
                        out[i] = UInt8(ascii: "-")
                        i += 1
                    }
                    out[i] = hex[Int((value >> UInt64(n * 4)) & 0xF)]
                    i += 1
                }
            }
            put(high, nibbles: 0...15)
            put(low, nibbles: 0...15)
            return i
        }
    }
}

/// xoshiro256** (Blackman and Vigna): a small, fast generator with 256 bits of state, for batches of job ids.
struct Xoshiro256: RandomNumberGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init<G: RandomNumberGenerator>(seededBy seed: G) {
        var seed = seed
        repeat {
            s = (seed.next(), seed.next(), seed.next(), seed.next())
        } while s == (0, 0, 0, 0)
    }

    mutating func next() -> UInt64 {
        let result = (s.1 &* 5).rotatedLeft(by: 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3.rotatedLeft(by: 45)
        return result
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(by k: UInt64) -> UInt64 { (self << k) | (self >> (64 - k)) }
}
