public import Glibc

/// Why a child process could not be started.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    public let executable: String
    public let errno: Int32
    public var description: String {
        "cannot start \(executable): \(String(cString: strerror(errno))) (check the path and that it is executable)"
    }
}

/// Starts `arguments[0]` with `arguments` as its argv, with an empty signal mask and default dispositions.
///
/// A child started from a thread that blocks signals (Swift's executors, NIO's and Foundation's helper threads do)
/// would otherwise inherit the mask and never see SIGTERM, so it could never drain. Only descriptors 0–2 reach the
/// child: pipes that others hold open must not be inherited, or their readers would wait for this child to exit
/// before seeing end of file.
///
/// - Parameters:
///   - outputPath: when set, stdout and stderr are appended to this file.
///   - environment: variables set on top of this process's environment.
/// - Returns: the child's pid; the caller waits for it.
public func spawnWithCleanSignals(_ arguments: [String], outputPath: String? = nil, environment: [String: String] = [:]) throws(SpawnError)
    -> pid_t
{
    precondition(!arguments.isEmpty, "spawnWithCleanSignals needs the executable as arguments[0]")
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    // glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), which Swift's Glibc module does not import.
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
    }
    if let outputPath {
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }

    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var variables: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
        let pair = String(cString: pointer)
        if let equals = pair.firstIndex(of: "=") { variables[String(pair[..<equals])] = String(pair[pair.index(after: equals)...]) }
        entry += 1
    }
    variables.merge(environment) { $1 }
    let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { envp.forEach { free($0) } }

    var pid: pid_t = 0
    let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
    guard rc == 0 else { throw SpawnError(executable: arguments[0], errno: rc) }
    return pid
}
