import SwitchboardRedis
import Testing

@Suite("REDIS_URL parsing")
struct RedisConfigurationTests {
    @Test(arguments: [
        ("redis://127.0.0.1:6379/0", RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: 6379), nil as String?, nil as String?, 0),
        ("redis://localhost", .tcp(host: "localhost", port: 6379), nil, nil, 0),
        ("redis://:pw@cache.internal:7000/3", .tcp(host: "cache.internal", port: 7000), nil, "pw", 3),
        ("redis://app:p%40ss%3Aword@10.0.0.5:6380/1", .tcp(host: "10.0.0.5", port: 6380), "app", "p@ss:word", 1),
        ("redis://secretonly@h:1/", .tcp(host: "h", port: 1), nil, "secretonly", 0),
        ("redis://[::1]:6379/2", .tcp(host: "::1", port: 6379), nil, nil, 2),
        ("unix:///run/redis/redis.sock", .unixSocket(path: "/run/redis/redis.sock"), nil, nil, 0),
        ("unix:///tmp/r.sock?db=4&password=x%26y&user=u", .unixSocket(path: "/tmp/r.sock"), "u", "x&y", 4),
    ])
    func parses(url: String, endpoint: RedisConfiguration.Endpoint, user: String?, password: String?, db: Int) throws {
        let c = try RedisConfiguration(url: url)
        #expect(c.endpoint == endpoint)
        #expect(c.username == user)
        #expect(c.password == password)
        #expect(c.database == db)
        if let password { #expect(!c.description.contains(password)) }
    }

    @Test(arguments: [
        ("http://h:1", "scheme"), ("redis://h:99999", "port"), ("redis://h:abc/0", "port"), ("redis://:pw@/0", "host"),
        ("redis://h/x", "database"), ("unix://relative.sock", "absolute"), ("unix:///s.sock?bogus=1", "bogus"),
    ])
    func refuses(url: String, mentions: String) {
        let error = #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
        #expect(error?.code == .invalidURL)
        #expect(error?.message.contains(mentions) == true)
        #expect(error?.message.contains("pw") == false)
    }

    @Test func scriptSHA1MatchesRedis() {
        // SHA-1 of "return 1", as `redis-cli SCRIPT LOAD "return 1"` prints it.
        #expect(RedisScript(name: "one", source: "return 1").sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }
}
