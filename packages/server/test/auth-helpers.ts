import { WebSocketClientAdapter } from "@tandem/adapter-websocket"
import { Repo, type RepoOptions } from "@tandem/repo"
import { SignJWT } from "jose"
import { WebSocket } from "ws"
import type { Client } from "./helpers.js"

export const SECRET = "a-test-secret-of-at-least-32-bytes!!"

/** An HS256 token for `userId`, valid `seconds` from now (negative: already expired). */
export function tokenFor(
  userId: string,
  seconds = 3600,
  claims: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(SECRET))
}

/** A repo connected the way an application connects one, with credentials from `getToken`. */
export function connectWith(
  url: string | (() => string),
  getToken: () => string | Promise<string>,
  options: RepoOptions = {},
): Client {
  const adapter = new WebSocketClientAdapter({
    url,
    WebSocket,
    getToken,
    reconnect: { initialDelay: 20, maxDelay: 200 },
    connectTimeout: 500,
  })
  return { repo: new Repo({ ...options, network: [adapter] }), adapter }
}
