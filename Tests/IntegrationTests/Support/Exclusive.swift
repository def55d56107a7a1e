import Testing

/// Tests with this trait never run at the same time as each other: the timing-sensitive ones (a delayed job within
/// 100 ms of its due time) and the ones that load both cores (the kill test's worker processes, the 1,000 hostile
/// webhook requests). Others still run in parallel with them.
struct Exclusive: TestTrait, SuiteTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard testCase != nil || !test.isSuite else { return try await function() }
        await ExclusiveLock.shared.acquire()
        do {
            try await function()
        } catch {
            await ExclusiveLock.shared.release()
            throw error
        }
        await ExclusiveLock.shared.release()
    }
}

extension Trait where Self == Exclusive {
    /// Runs the test alone among the tests that also carry `.exclusive`.
    static var exclusive: Exclusive { Exclusive() }
}

actor ExclusiveLock {
    static let shared = ExclusiveLock()
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { held = false } else { waiters.removeFirst().resume() }
    }
}
