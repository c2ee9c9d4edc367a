import { RedisRelayAdapter } from "@tandem/adapter-redis"
import { startRedisServer } from "@tandem/adapter-redis/testing"
import { Repo } from "@tandem/repo"
import { createServer } from "@tandem/server"
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

it("/readyz reports Redis and stays ready without it; /metrics has the Redis relay's metrics", async () => {
  const redis = await startRedisServer()
  const server = await createServer({
    port: 0,
    host: "127.0.0.1",
    redis: { url: redis.url, service: "readyz", instanceId: "r1" },
  })
  try {
    await server.redis?.whenStarted()
    const base = `http://127.0.0.1:${server.port}`
    let ready = await fetch(`${base}/readyz`)
    expect(ready.status).toBe(200)
    expect((await ready.json()).checks).toMatchObject({ storage: "ok", redis: "ok" })
    const metrics = await (await fetch(`${base}/metrics`)).text()
    expect(metrics).toContain("tandem_redis_connected 1")
    expect(metrics).toContain("tandem_redis_instances 1")
    await redis.stop()
    await eventually("the relay to notice Redis is gone", () => server.redis?.stats.connected === false)
    ready = await fetch(`${base}/readyz`)
    expect(ready.status).toBe(200)
    expect((await ready.json()).checks).toMatchObject({ storage: "ok", redis: "unreachable" })
    expect(await (await fetch(`${base}/metrics`)).text()).toContain("tandem_redis_connected 0")
  } finally {
    await server.close()
    await redis.close()
  }
})
