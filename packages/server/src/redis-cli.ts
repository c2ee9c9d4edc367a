import { randomBytes } from "node:crypto"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import type { RedisServiceOptions } from "./redis.js"

interface RedisFlags {
  redis?: string | undefined
  service?: string | undefined
  "instance-id"?: string | undefined
  "instance-ttl"?: string | undefined
}

/** The Redis options `tandem serve` was given, flags first, then the environment; null without a URL. */
export async function redisFromCli(
  flags: RedisFlags,
  env: NodeJS.ProcessEnv,
  defaultInstanceId: () => Promise<string>,
): Promise<RedisServiceOptions | null> {
  const url = flags.redis ?? env.TANDEM_REDIS_URL
  if (!url) return null
  const ttlText = flags["instance-ttl"] ?? env.TANDEM_INSTANCE_TTL
  const ttl = ttlText === undefined ? undefined : Number(ttlText)
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 100)) {
    throw new Error(`--instance-ttl must be a whole number of milliseconds (100 or more), not ${ttlText}`)
  }
  const service = flags.service ?? env.TANDEM_SERVICE
  const instanceId = flags["instance-id"] ?? env.TANDEM_INSTANCE_ID ?? (await defaultInstanceId())
  return {
    url,
    instanceId,
    ...(service !== undefined && { service }),
    ...(ttl !== undefined && { instanceTtlMs: ttl }),
  }
}

/**
 * The instance id kept in `<dataDir>/instance-id`, made on first start: a restarted instance
 * keeps its id, so the others replace its earlier run at once instead of waiting for its TTL.
 */
export async function instanceIdIn(dataDir: string | null): Promise<string> {
  const fresh = `relay-${randomBytes(6).toString("hex")}`
  if (dataDir === null) return fresh
  const file = join(dataDir, "instance-id")
  try {
    const saved = (await readFile(file, "utf8")).trim()
    if (saved) return saved
  } catch {
    // No id yet: this is the instance's first start.
  }
  await mkdir(dataDir, { recursive: true })
  await writeFile(file, `${fresh}\n`)
  return fresh
}
