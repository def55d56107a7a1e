# Sidekiq's per-job API (perform_async) from several Ruby threads of one process: the counterpart of
# `switchboard bench --producers`, for scripts/bench-peers. Run from the peers folder, which has sidekiq_jobs.rb:
#   BENCH_REDIS_PORT=6379 ruby sidekiq_threads.rb N THREADS
# Each thread gets a connection of its own (pool size = threads), the most Sidekiq's client can use. Prints one JSON
# line like the peers' producers.
require "json"
require "./sidekiq_jobs"

n = Integer(ARGV[0])
threads = Integer(ARGV[1] || "16")
raise "bad N" unless n.positive? && threads.positive?
Sidekiq.configure_client { |c| c.redis = { url: URL, size: threads } }

clock = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }
NoopJob.perform_async # opens the pool outside the timed loop
t = clock.call
threads.times.map { |k| Thread.new { k.step(n - 1, threads) { NoopJob.perform_async } } }.each(&:join)
dt = clock.call - t
puts JSON.generate(peer: "sidekiq", mode: "threads", threads: threads, n: n, seconds: dt, jobs_per_s: n / dt)
