import type { RedisRelayAdapter } from "@tandem/adapter-redis"
import { Counter, Gauge, type Registry } from "prom-client"

/** The Redis relay's Prometheus metrics, read from its `stats` at each scrape. */
export function registerRedisMetrics(registry: Registry, relay: RedisRelayAdapter): void {
  const registers = [registry]
  const stats = () => relay.stats
  new Gauge({
    name: "tandem_redis_connected",
    help: "1 while the connection to Redis is up",
    registers,
    collect() {
      this.set(stats().connected ? 1 : 0)
    },
  })
  new Gauge({
    name: "tandem_redis_instances",
    help: "Instances of the service this one sees alive, itself included",
    registers,
    collect() {
      this.set(stats().instances)
    },
  })
  new Gauge({
    name: "tandem_redis_stream_length",
    help: "Entries in the update stream",
    registers,
    collect() {
      this.set(stats().streamLength)
    },
  })
  new Gauge({
    name: "tandem_redis_lag_seconds",
    help: "How far behind the update stream this instance reads",
    registers,
    collect() {
      this.set(stats().lagMs / 1000)
    },
  })
  let counted = 0
  new Counter({
    name: "tandem_redis_stream_gaps_total",
    help: "Times entries were missing from the update stream and a full sync was needed",
    registers,
    collect() {
      const { gaps } = stats()
      if (gaps > counted) this.inc(gaps - counted)
      counted = gaps
    },
  })
}

/**
 * Redis for `/readyz`: "ok" or "unreachable". Never a reason to be unready: an instance without
 * Redis still serves its own clients, and rejoins the service when Redis is back.
 */
export function redisReadiness(relay: RedisRelayAdapter): "ok" | "unreachable" {
  return relay.stats.connected ? "ok" : "unreachable"
}
