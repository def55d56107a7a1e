public import Hummingbird
public import HummingbirdCore
public import Logging
import NIOCore

/// The `web` process's routes: the provider webhooks, `GET /healthz` (the process is up), `GET /readyz` (`ready()`
/// holds, else 503 with `Retry-After: 5`), `GET /metrics` (`metrics()` as Prometheus text). Built apart from the
/// server so tests can drive it without a socket (`app.test(.router)`).
public func buildRouter(
    webhooks: WebhookRoutes, ready: @escaping @Sendable () async -> Bool, metrics: @escaping @Sendable () -> [UInt8]
) -> Router<BasicRequestContext> {
    let router = Router()
    webhooks.register(on: router)
    router.get("/healthz") { _, _ in "ok\n" }
    router.get("/readyz") { _, context -> Response in
        guard await ready() else {
            context.logger.warning("not ready: Redis does not answer")
            return Response(
                status: .serviceUnavailable, headers: [.retryAfter: "5"], body: .init(byteBuffer: ByteBuffer(string: "redis unreachable\n")))
        }
        return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
    }
    router.get("/metrics") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: metrics())))
    }
    return router
}

/// The HTTP server for `router` on `host:port`, behind the connection guard (``ConnectionLimits``): `census` counts its
/// connections and logs refusals and stalls.
public func buildApplication(
    router: Router<BasicRequestContext>, host: String, port: Int, limits: ConnectionLimits = .init(), census: ConnectionCensus? = nil,
    logger: Logger
) -> some ApplicationProtocol {
    let census = census ?? ConnectionCensus(limit: limits.maxConnections, logger: logger)
    return Application(
        router: router,
        server: HTTPServerBuilder { responder in GuardedHTTP1Channel(responder: responder, limits: limits, census: census) },
        configuration: .init(address: .hostname(host, port: port), serverName: "switchboard"), logger: logger)
}
