import { connect } from "node:net"

/** What Redis says it did so far: commands served (in total and by name) and its CPU time. */
export interface RedisCounters {
  commands: number
  /** Calls per command name (lower case, `publish`, `xadd`, …). */
  calls: Record<string, number>
  /** User + system CPU time of the redis-server process, µs. */
  cpu: number
}

/**
 * Reads the stats, commandstats and cpu sections of `INFO` over a connection of its own (one
 * inline command; the INFO calls themselves add a handful to the counts).
 */
export async function readRedisCounters(port: number): Promise<RedisCounters> {
  const text = await info(port)
  const fields = new Map<string, string>()
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":")
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1))
  }
  const calls: Record<string, number> = {}
  for (const [key, value] of fields) {
    if (!key.startsWith("cmdstat_")) continue
    const match = /calls=(\d+)/.exec(value)
    if (match) calls[key.slice("cmdstat_".length)] = Number(match[1])
  }
  const seconds = (key: string) => Number(fields.get(key) ?? Number.NaN)
  return {
    commands: Number(fields.get("total_commands_processed") ?? Number.NaN),
    calls,
    cpu: (seconds("used_cpu_user") + seconds("used_cpu_sys")) * 1e6,
  }
}

/** What happened between two readings. */
export function countersBetween(before: RedisCounters, after: RedisCounters): RedisCounters {
  const calls: Record<string, number> = {}
  for (const [name, count] of Object.entries(after.calls)) {
    const delta = count - (before.calls[name] ?? 0)
    if (delta > 0) calls[name] = delta
  }
  return { commands: after.commands - before.commands, calls, cpu: after.cpu - before.cpu }
}

/** `INFO everything` (every section, command stats included) as one bulk string. */
function info(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1")
    let buffer = Buffer.alloc(0)
    socket.once("error", reject)
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      const headerEnd = buffer.indexOf("\r\n")
      if (headerEnd < 0) return
      const header = buffer.subarray(0, headerEnd).toString()
      if (!header.startsWith("$")) {
        socket.destroy()
        reject(new Error(`redis answered INFO with ${header}`))
        return
      }
      const length = Number(header.slice(1))
      if (buffer.length < headerEnd + 2 + length) return
      socket.end()
      resolve(buffer.subarray(headerEnd + 2, headerEnd + 2 + length).toString())
    })
    socket.write("INFO everything\r\n")
  })
}
