import SwitchboardRedis

/// The queue's Lua scripts, one file each in `Scripts/` (embedded at build time). Each file's header lists its
/// KEYS, ARGV and what it guarantees atomically. `prelude.lua` (shared helpers, no keys) is prepended to each.
enum QueueScripts {
    static let enqueue = script("enqueue", PackageResources.enqueue_lua)
    static let take = script("take", PackageResources.take_lua)
    static let complete = script("complete", PackageResources.complete_lua)
    static let fail = script("fail", PackageResources.fail_lua)
    static let extend = script("extend", PackageResources.extend_lua)
    static let requeue = script("requeue", PackageResources.requeue_lua)
    static let revive = script("revive", PackageResources.revive_lua)
    static let discard = script("discard", PackageResources.discard_lua)
    static let purge = script("purge", PackageResources.purge_lua)
    static let check = script("check", PackageResources.check_lua)
    static let fire = script("fire", PackageResources.fire_lua)
    static let lock = script("lock", PackageResources.lock_lua)
    static let fencedAppend = script("fenced_append", PackageResources.fenced_append_lua)
    static let debounce = script("debounce", PackageResources.debounce_lua)
    static let rateLimit = script("ratelimit", PackageResources.ratelimit_lua)
    static let semaphore = script("semaphore", PackageResources.semaphore_lua)
    static let relay = script("relay", PackageResources.relay_lua)
    static let outbox = script("outbox", PackageResources.outbox_lua)
    static let unwait = script("unwait", PackageResources.unwait_lua)
    static let park = script("park", PackageResources.park_lua)
    static let wake = script("wake", PackageResources.wake_lua)

    private static let prelude = String(decoding: PackageResources.prelude_lua, as: UTF8.self)

    private static func script(_ name: String, _ bytes: [UInt8]) -> RedisScript {
        RedisScript(name: name, source: prelude + "\n" + String(decoding: bytes, as: UTF8.self))
    }
}
