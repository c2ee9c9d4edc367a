import { createServer as createHttp } from "node:http"
import type { AddressInfo } from "node:net"
import type { ConnectionError } from "@tandem/adapter-websocket"
import type { Room } from "@tandem/repo"
import { AuthError, createServer, type ServerOptions, type TandemServer } from "@tandem/server"
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose"
import { afterEach, describe, expect, it } from "vitest"
import { connectWith, SECRET, tokenFor } from "./auth-helpers.js"
import { type Client, connect, RawClient, until, untilMembers } from "./helpers.js"

const servers: TandemServer[] = []
const clients: Client[] = []
const raws: RawClient[] = []
const closers: (() => Promise<void>)[] = []

async function relay(options: ServerOptions = {}): Promise<TandemServer> {
  const server = await createServer({
    port: 0,
    host: "127.0.0.1",
    auth: { jwt: { secret: SECRET } },
    ...options,
  })
  servers.push(server)
  return server
}
function client(...args: Parameters<typeof connectWith>): Client {
  const made = connectWith(...args)
  clients.push(made)
  return made
}
async function raw(url: string, protocols?: string[]): Promise<RawClient> {
  const made = await RawClient.open(url, protocols)
  raws.push(made)
  return made
}
afterEach(async () => {
  for (const r of raws.splice(0)) r.close()
  await Promise.all(clients.splice(0).map((c) => c.repo.shutdown()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
  for (const close of closers.splice(0)) await close()
})

function nextError(client: Client): Promise<ConnectionError> {
  return new Promise((resolve) => {
    const stop = client.adapter.on("error", (error) => {
      stop()
      resolve(error)
    })
  })
}

describe("authentication", () => {
  it("binds the token's user to the connection: a forged userId in the hello is replaced", async () => {
    const server = await relay()
    const alice = client(server.url, () => tokenFor("alice"), { identity: { userId: "root", name: "Alice" } })
    const bob = client(server.url, () => tokenFor("bob"))
    const room = alice.repo.joinRoom("lobby", { presence: { userId: "root" } })
    const seen = bob.repo.joinRoom("lobby")
    await Promise.all([room.whenSynced(), seen.whenSynced()])
    await untilMembers(seen, 2)
    const member = seen.getMembers().find((m) => !m.self)
    expect(member?.userId).toBe("alice")
    expect(member?.identity).toEqual({ userId: "alice", name: "Alice" })
    expect(
      server
        .getMembers("lobby")
        ?.map((m) => m.userId)
        .sort(),
    ).toEqual(["alice", "bob"])
  })

  it("refuses a bad token for good: the client reports UNAUTHORIZED and does not retry", async () => {
    const server = await relay()
    let calls = 0
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("mallory")
      .sign(new TextEncoder().encode("some-other-secret-of-32-bytes-or-more"))
    const mallory = client(server.url, () => {
      calls++
      return forged
    })
    const error = await nextError(mallory)
    expect(error).toMatchObject({ code: "UNAUTHORIZED", closeCode: 4001 })
    expect(mallory.adapter.state).toBe("closed")
    // Nothing to await for a retry that must not happen: give the backoff (20 ms here) ten times over.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(calls).toBe(1)
    expect(server.getConnections()).toEqual([])
  })

  it("refuses a connection without a token unless anonymous access is configured", async () => {
    const strict = await relay()
    const nobody = connect(strict.url)
    clients.push(nobody)
    expect(await nextError(nobody)).toMatchObject({ code: "UNAUTHORIZED" })

    const open = await relay({ auth: { jwt: { secret: SECRET }, anonymous: true } })
    const guest = connect(open.url, { identity: { userId: "admin", name: "Guest" } })
    clients.push(guest)
    const room = guest.repo.joinRoom("lobby")
    await room.whenSynced()
    const [member] = open.getMembers("lobby") ?? []
    expect(member?.userId).toBeUndefined()
    expect(member?.identity).toEqual({ name: "Guest" })
    expect(open.getConnections()[0]?.identity.anonymous).toBe(true)
  })

  it("checks audience and issuer", async () => {
    const server = await relay({
      auth: { jwt: { secret: SECRET, audience: "tandem", issuer: "https://id.example" } },
    })
    const sign = (aud: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("alice")
        .setAudience(aud)
        .setIssuer("https://id.example")
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode(SECRET))
    const wrong = client(server.url, () => sign("elsewhere"))
    expect(await nextError(wrong)).toMatchObject({ code: "UNAUTHORIZED" })
    const right = client(server.url, () => sign("tandem"))
    await right.repo.joinRoom("r").whenSynced()
    expect(server.getConnections().map((c) => c.identity.userId)).toEqual(["alice"])
  })

  it("verifies tokens with a public key and with keys from a JWKS URL", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true })
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }
    const jwks = createHttp((_, response) => {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }))
    })
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve))
    closers.push(() => new Promise((resolve) => jwks.close(() => resolve())))
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`
    const sign = (userId: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setSubject(userId)
        .setExpirationTime("1h")
        .sign(privateKey)

    const byJwks = await relay({ auth: { jwt: { jwksUrl } } })
    await client(byJwks.url, () => sign("carol"))
      .repo.joinRoom("r")
      .whenSynced()
    expect(byJwks.getMembers("r")?.map((m) => m.userId)).toEqual(["carol"])

    const byKey = await relay({
      auth: { jwt: { publicKey: await exportSPKI(publicKey), algorithms: ["ES256"] } },
    })
    await client(byKey.url, () => sign("dave"))
      .repo.joinRoom("r")
      .whenSynced()
    expect(byKey.getMembers("r")?.map((m) => m.userId)).toEqual(["dave"])
  })

  it("takes any credentials through the authenticate hook, and a token in Sec-WebSocket-Protocol", async () => {
    const server = await relay({
      auth: {
        authenticate: ({ token }) => {
          if (token === null) return null
          if (!token.startsWith("key-")) throw new AuthError("UNAUTHORIZED", "unknown API key")
          return { userId: token.slice(4), profile: { name: `user ${token.slice(4)}` } }
        },
      },
    })
    const viaHook = client(server.url, () => "key-erin")
    await viaHook.repo.joinRoom("r").whenSynced()
    expect(server.getMembers("r")?.[0]?.identity).toEqual({ userId: "erin", name: "user erin" })

    const viaHeader = await raw(server.url, ["tandem", "tandem-token.key-frank"])
    expect(viaHeader.socket.protocol).toBe("tandem")
    viaHeader.hello("frank-peer")
    expect(await viaHeader.next((m) => m.type === "auth-ok")).toMatchObject({ userId: "frank" })
    expect(await viaHeader.next((m) => m.type === "hello")).toMatchObject({ relay: true })
  })

  it("keeps the connection open across token refreshes", async () => {
    let issued = 0
    let refreshedThrice: () => void = () => {}
    const refreshed = new Promise<void>((resolve) => {
      refreshedThrice = resolve
    })
    const server = await relay({
      auth: {
        authenticate: ({ token }) =>
          token === null
            ? null
            : { userId: "alice", expiresAt: Date.now() + (token === "first" ? 300 : 400) },
      },
    })
    const alice = client(server.url, () => {
      if (++issued === 4) refreshedThrice()
      return issued === 1 ? "first" : `fresh-${issued}`
    })
    const room = alice.repo.joinRoom("r")
    await room.whenSynced()
    const states: string[] = []
    alice.adapter.on("state", (state) => states.push(state))
    // Three refreshes, each before the last token ran out.
    await refreshed
    expect(alice.adapter.state).toBe("open")
    expect(states).toEqual([])
    expect(server.getConnections()).toHaveLength(1)
  })

  it("closes with TOKEN_EXPIRED when a token runs out unrefreshed; the client reconnects with a fresh one", async () => {
    const server = await relay({
      auth: {
        authenticate: ({ token }) =>
          token === null
            ? null
            : { userId: "alice", expiresAt: Date.now() + (token === "short" ? 200 : 3_600_000) },
      },
    })
    // By hand first, to see the close code.
    const socket = await raw(server.url)
    socket.send({ type: "auth", token: "short" })
    socket.hello("by-hand")
    expect(await socket.closed).toMatchObject({ code: 4101 })

    // The client's refresh fails; the relay closes at expiry; the reconnect asks for a token again.
    const tokens = ["short", null, "long"]
    const alice = client(server.url, () => {
      const token = tokens.shift()
      if (!token) throw new Error("the identity provider is down")
      return token
    })
    const joined = alice.repo.joinRoom("r")
    await joined.whenSynced()
    await until(alice.adapter, "reconnecting")
    await until(alice.adapter, "open")
    expect(tokens).toEqual([])
    await new Promise<void>((resolve) => joined.on("sync", () => resolve()))
    expect(server.getMembers("r")?.map((m) => m.userId)).toEqual(["alice"])
  })

  it("reads only the handshake before authentication, and caps it", async () => {
    let release: () => void = () => {}
    const slow = new Promise<void>((resolve) => {
      release = resolve
    })
    const server = await relay({
      auth: {
        authenticate: async ({ token }) => {
          await slow
          return token === null ? null : { userId: token }
        },
      },
    })
    // Anything but the handshake first is refused.
    const rude = await raw(server.url)
    rude.send({ type: "sync-request", docId: "d", version: new Uint8Array() })
    expect(await rude.closed).toMatchObject({ code: 4001 })

    // A flood behind the handshake, while authentication is pending, is cut off.
    const flood = await raw(server.url)
    flood.send({ type: "auth", token: "alice" })
    flood.hello("flooder")
    for (let i = 0; i < 100; i++) flood.send({ type: "ping" })
    expect(await flood.closed).toMatchObject({ code: 4001 })

    // One large handshake message is cut off too.
    const large = await raw(server.url)
    large.send({ type: "auth", token: "x".repeat(16_000) })
    large.send({ type: "auth", token: "y".repeat(16_000) })
    expect(await large.closed).toMatchObject({ code: 4001 })
    release()

    // Meanwhile a well-behaved client gets in.
    const fine = client(server.url, () => "bob")
    await fine.repo.joinRoom("r").whenSynced()
    expect(server.getMembers("r")?.map((m) => m.userId)).toEqual(["bob"])
  })

  it("disconnectUser closes every connection of that user for good, and no one else's", async () => {
    const server = await relay({ rooms: { reconnectGrace: 50 } })
    const tabs = [client(server.url, () => tokenFor("alice")), client(server.url, () => tokenFor("alice"))]
    const bob = client(server.url, () => tokenFor("bob"))
    const rooms = [...tabs, bob].map((c) => c.repo.joinRoom("r"))
    await Promise.all(rooms.map((room) => room.whenSynced()))
    await untilMembers(rooms[2] as Room, 3)
    const errors = tabs.map(nextError)
    expect(server.disconnectUser("alice", { reason: "account suspended" })).toBe(2)
    for (const error of await Promise.all(errors)) {
      expect(error).toMatchObject({ code: "FORBIDDEN", message: "account suspended" })
    }
    await untilMembers(rooms[2] as Room, 1)
    expect(bob.adapter.state).toBe("open")
    expect(tabs.map((tab) => tab.adapter.state)).toEqual(["closed", "closed"])
  })

  it("closes a connection that does not finish its handshake in time (TIMEOUT, transient)", async () => {
    const server = await relay({ auth: { jwt: { secret: SECRET }, handshakeTimeout: 50 } })
    const silent = await raw(server.url)
    expect(await silent.closed).toMatchObject({ code: 4103 })
  })

  it("a JWKS endpoint that cannot be reached closes with INTERNAL (transient), not UNAUTHORIZED", async () => {
    const gone = createHttp()
    await new Promise<void>((resolve) => gone.listen(0, "127.0.0.1", resolve))
    const port = (gone.address() as AddressInfo).port
    await new Promise((resolve) => gone.close(resolve))
    const server = await relay({ auth: { jwt: { jwksUrl: `http://127.0.0.1:${port}/jwks.json` } } })
    const socket = await raw(server.url)
    socket.send({ type: "auth", token: await tokenFor("alice") })
    socket.hello("alice-peer")
    expect(await socket.closed).toMatchObject({ code: 4199 })
  })
})
