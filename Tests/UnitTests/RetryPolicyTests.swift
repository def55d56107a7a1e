import SwitchboardQueue
import Testing

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test func ceilingsDoubleFromTheBaseUpToTheCap() {
        let policy = RetryPolicy(maxAttempts: 10, base: .seconds(2), cap: .seconds(900))
        #expect(
            (1...11).map { policy.ceilingMilliseconds(afterAttempt: $0) } == [
                2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 900_000, 900_000,
            ])
        #expect(policy.ceilingMilliseconds(afterAttempt: 1_000) == 900_000)  // no overflow
    }

    @Test func fullJitterStaysWithinZeroAndTheCeiling() {
        let policy = RetryPolicy(maxAttempts: 5, base: .milliseconds(100), cap: .seconds(1))
        var generator = SystemRandomNumberGenerator()
        for attempt in 1...6 {
            let ceiling = policy.ceilingMilliseconds(afterAttempt: attempt)
            let delays = (0..<500).map { _ in policy.delay(afterAttempt: attempt, using: &generator).milliseconds }
            #expect(delays.allSatisfy { (0...ceiling).contains($0) })
            #expect(Set(delays).count > 10)  // actually jittered
        }
    }

    @Test func defaultsAreDocumented() {
        #expect(RetryPolicy.default == RetryPolicy(maxAttempts: 10, base: .seconds(2), cap: .seconds(900)))
        #expect(RetryPolicy.never.maxAttempts == 1)
    }
}
