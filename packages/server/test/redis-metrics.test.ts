import { RedisRelayAdapter } from "@tandem/adapter-redis"
import { startRedisServer } from "@tandem/adapter-redis/testing"
import { Repo } from "@tandem/repo"
import { Registry } from "prom-client"
import { expect, it } from "vitest"
import { redisReadiness, registerRedisMetrics } from "../src/redis-metrics.js"
import { eventually } from "./cluster-helpers.js"

it("the Redis relay's metrics and readiness follow its connection", async () => {
  const redis = await startRedisServer()
  const relay = new RedisRelayAdapter({ url: redis.url, service: "metrics", instanceId: "m1" })
  const repo = new Repo({ peerId: "m1", relay: true, network: [relay] })
  try {
    await relay.whenStarted()
    const registry = new Registry()
    registerRedisMetrics(registry, relay)
    const text = await registry.metrics()
    expect(text).toContain("tandem_redis_connected 1")
    expect(text).toContain("tandem_redis_instances 1")
    expect(text).toContain("tandem_redis_stream_gaps_total 0")
    expect(text).toMatch(/tandem_redis_lag_seconds \d/)
    expect(text).toMatch(/tandem_redis_stream_length \d/)
    expect(redisReadiness(relay)).toBe("ok")
    await redis.stop()
    await eventually("the relay to notice Redis is gone", () => !relay.stats.connected)
    expect(redisReadiness(relay)).toBe("unreachable")
    expect(await registry.metrics()).toContain("tandem_redis_connected 0")
  } finally {
    await repo.shutdown()
    await redis.close()
  }
})
