import type { Json, Room } from "@tandem/repo"
import { createServer, type ServerOptions, type TandemServer } from "@tandem/server"

/**
 * Waits until `condition` holds, checking it every few milliseconds: for state that several
 * processes reach through Redis, where no single event says "now". Fails with `what` on timeout.
 */
export async function eventually(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** One relay instance of a service, in this process. */
export async function instance(
  url: string,
  instanceId: string,
  options: ServerOptions & { service?: string; instanceTtlMs?: number } = {},
): Promise<TandemServer> {
  const { service = "test", instanceTtlMs = 3000, ...rest } = options
  const server = await createServer({
    port: 0,
    host: "127.0.0.1",
    redis: { url, service, instanceId, instanceTtlMs },
    ...rest,
  })
  await server.redis?.whenStarted()
  return server
}

/** The members a room lists, as sorted peer ids. */
export function memberIds<P extends Json>(room: Room<P>): string[] {
  return room
    .getMembers()
    .map((member) => member.peerId)
    .sort()
}

/** Every member's presence, by peer id, as JSON text: equal on every instance once converged. */
export function presences<P extends Json>(room: Room<P>): string {
  const entries = room
    .getMembers()
    .map((member) => [member.peerId, member.presence] as const)
    .sort(([a], [b]) => a.localeCompare(b))
  return JSON.stringify(entries)
}
