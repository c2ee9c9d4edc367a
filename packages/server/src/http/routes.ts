import { timingSafeEqual } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import { isJson } from "@tandem/protocol"
import { type Json, TandemError } from "@tandem/repo"
import type { Registry } from "prom-client"
import type { Readiness } from "./readiness.js"

/** What the HTTP endpoints serve: the same operations the server object offers as methods. */
export interface HttpBackend {
  readiness(): Promise<Readiness>
  draining(): boolean
  metrics: Registry
  /** The admin API answers only requests bearing this token; without one it is off. */
  adminToken: string | undefined
  listRooms(prefix: string | undefined): unknown
  roomMembers(roomId: string): unknown | undefined
  stats(): unknown
  connections(): unknown
  broadcast(roomId: string, event: string, payload: Json): number
  disconnectUser(userId: string, options: { permanent?: boolean; reason?: string }): number
}

const MAX_BODY = 256 * 1024

/** The relay's HTTP endpoints, on the port of its WebSocket. */
export function httpHandler(backend: HttpBackend) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    route(backend, request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500
      const message = error instanceof Error ? error.message : "internal error"
      if (!response.headersSent) json(response, status, { error: message })
      else response.end()
    })
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

async function route(
  backend: HttpBackend,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://relay")
  const path = url.pathname
  const method = request.method ?? "GET"
  if (method === "GET" && path === "/healthz") {
    response.writeHead(200, { "content-type": "text/plain" }).end("ok\n")
    return
  }
  if (method === "GET" && path === "/readyz") {
    const readiness = await backend.readiness()
    const draining = backend.draining()
    const ready = readiness.ready && !draining
    json(response, ready ? 200 : 503, {
      status: ready ? "ok" : draining ? "draining" : "unavailable",
      checks: readiness.checks,
    })
    return
  }
  if (method === "GET" && path === "/metrics") {
    const body = await backend.metrics.metrics()
    response.writeHead(200, { "content-type": backend.metrics.contentType }).end(body)
    return
  }
  if (path.startsWith("/api/")) return admin(backend, request, response, method, url)
  response.writeHead(426, { "content-type": "text/plain" }).end("connect with a WebSocket\n")
}

async function admin(
  backend: HttpBackend,
  request: IncomingMessage,
  response: ServerResponse,
  method: string,
  url: URL,
): Promise<void> {
  if (backend.adminToken === undefined)
    throw new HttpError(404, "the admin API is off: start the relay with an admin token")
  if (!bearerMatches(request.headers.authorization, backend.adminToken)) {
    response.setHeader("www-authenticate", 'Bearer realm="tandem"')
    throw new HttpError(401, "an admin bearer token is required")
  }
  const parts = url.pathname.slice("/api/".length).split("/").map(decodeURIComponent)
  const [first, second, third] = parts
  if (method === "GET" && first === "stats" && parts.length === 1) return json(response, 200, backend.stats())
  if (method === "GET" && first === "connections" && parts.length === 1) {
    return json(response, 200, { connections: backend.connections() })
  }
  if (method === "GET" && first === "rooms" && parts.length === 1) {
    return json(response, 200, { rooms: backend.listRooms(url.searchParams.get("prefix") ?? undefined) })
  }
  if (first === "rooms" && second !== undefined && parts.length === 3) {
    if (method === "GET" && third === "members") {
      const members = backend.roomMembers(second)
      if (members === undefined) throw new HttpError(404, `no room ${second}`)
      return json(response, 200, { roomId: second, members })
    }
    if (method === "POST" && third === "broadcast") {
      const body = await readJson(request)
      if (typeof body.event !== "string" || body.event.length === 0) {
        throw new HttpError(400, "the body needs an event name: { event, payload }")
      }
      if (!isJson(body.payload ?? null)) throw new HttpError(400, "the payload must be JSON")
      try {
        const delivered = backend.broadcast(second, body.event, (body.payload ?? null) as Json)
        return json(response, 200, { delivered })
      } catch (error) {
        if (error instanceof TandemError && error.code === "NOT_IN_ROOM")
          throw new HttpError(404, error.message)
        if (error instanceof TandemError) throw new HttpError(400, error.message)
        throw error
      }
    }
  }
  if (
    method === "POST" &&
    first === "users" &&
    second !== undefined &&
    third === "disconnect" &&
    parts.length === 3
  ) {
    const body = await readJson(request)
    const disconnected = backend.disconnectUser(second, {
      ...(typeof body.permanent === "boolean" && { permanent: body.permanent }),
      ...(typeof body.reason === "string" && { reason: body.reason.slice(0, 120) }),
    })
    return json(response, 200, { disconnected })
  }
  throw new HttpError(404, `no such endpoint: ${method} ${url.pathname}`)
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/i.exec(header ?? "")
  if (!match) return false
  const given = Buffer.from(match[1] as string)
  const expected = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new HttpError(413, `the body is over ${MAX_BODY} bytes`)
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return {}
  let body: unknown
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"))
  } catch {
    throw new HttpError(400, "the body is not JSON")
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new HttpError(400, "the body must be a JSON object")
  return body as Record<string, unknown>
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(body)}\n`)
}
