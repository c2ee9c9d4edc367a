import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { instanceIdIn, redisFromCli } from "../src/redis-cli.js"

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

describe("tandem serve --redis", () => {
  it("keeps the instance id in the data directory, so a restarted instance has the same one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tandem-id-"))
    dirs.push(dir)
    const first = await instanceIdIn(dir)
    expect(await instanceIdIn(dir)).toBe(first)
    expect((await readFile(join(dir, "instance-id"), "utf8")).trim()).toBe(first)
  })

  it("flags win over the environment; no URL means no Redis", async () => {
    const id = async () => "from-data-dir"
    expect(await redisFromCli({}, {}, id)).toBeNull()
    expect(
      await redisFromCli({ service: "flag" }, { TANDEM_REDIS_URL: "redis://env", TANDEM_SERVICE: "env" }, id),
    ).toEqual({ url: "redis://env", service: "flag", instanceId: "from-data-dir" })
    expect(
      await redisFromCli({ redis: "redis://flag", "instance-id": "i7", "instance-ttl": "3000" }, {}, id),
    ).toEqual({ url: "redis://flag", instanceId: "i7", instanceTtlMs: 3000 })
  })

  it("refuses a TTL that is not a whole number of milliseconds", async () => {
    await expect(
      redisFromCli({ redis: "redis://x", "instance-ttl": "soon" }, {}, async () => "i"),
    ).rejects.toThrow(/--instance-ttl/)
  })
})
