import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// A local stand-in for the WhatsApp Cloud API's send endpoint (`POST /{version}/{phone-number-id}/messages`),
/// answering in Meta's documented shape with a fresh `wamid`, for development (`switchboard sink`, scripts/dev) and
/// the pipeline benchmark: the workers' sends go here when `SWITCHBOARD_WHATSAPP_BASE_URL` points at it. Every send is
/// kept (recipient, text, our reference) so a benchmark can count replies per conversation.
final class MessagingSink: Sendable {
    struct Send: Sendable, Codable {
        /// The `wamid` the sink answered with.
        let id: String
        let to: String
        let text: String
        let reference: String?
        let at: Date
    }
    private let sends = Mutex<[Send]>([])
    let onSend: @Sendable (Send) -> Void

    /// In every id the sink hands out: ids stay unique across runs, as a provider's are (a channel's messages are unique
    /// by provider id).
    private let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)

    init(onSend: @escaping @Sendable (Send) -> Void = { _ in }) { self.onSend = onSend }

    var all: [Send] { sends.withLock { $0 } }

    /// Serves on `port` (0: one the kernel chooses) until `body` returns; `body` gets the port.
    func run(host: String = "127.0.0.1", port: Int = 0, _ body: @Sendable @escaping (Int) async throws -> Void) async throws {
        let router = Router()
        router.post("/:version/:phone/messages") { request, _ -> Response in
            let data = try await request.body.collect(upTo: 1 << 20)
            let json = (try? JSONSerialization.jsonObject(with: Data(data.readableBytesView))) as? [String: Any] ?? [:]
            let to = json["to"] as? String ?? ""
            let text = (json["text"] as? [String: Any])?["body"] as? String ?? ""
            let send = self.sends.withLock { s -> Send in
                let send = Send(
                    id: "wamid.SINK-\(self.run)-\(s.count + 1)", to: to, text: text, reference: json["biz_opaque_callback_data"] as? String,
                    at: Date())
                s.append(send)
                return send
            }
            self.onSend(send)
            let body =
                #"{"messaging_product":"whatsapp","contacts":[{"input":"\#(to)","wa_id":"\#(to)"}],"messages":[{"id":"\#(send.id)"}]}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "switchboard.sink")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            do { try await body(port) } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
