import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Runs `router` on a loopback port the kernel chooses, calls `body` with the port, then shuts the server down
/// gracefully (also when `body` throws).
func withLocalServer(_ router: Router<BasicRequestContext>, label: String = "test-server", _ body: @Sendable (Int) async throws -> Void) async throws
{
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: Logger(label: label))
    let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: label)))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            try await body(port)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}
