import { Bridge, BridgeAdapter, MemoryStorage, Repo, type RepoOptions, type Room } from "@tandem/repo"
import { afterEach, describe, expect, it } from "vitest"
import { eventually, InstrumentedStorage, next, quiet, Recording } from "./helpers.js"

type Cursor = { name: string; x?: number }

const repos: Repo[] = []
function repo(options: RepoOptions = {}): Repo {
  const made = new Repo(options)
  repos.push(made)
  return made
}
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.shutdown()))
})

const on = (bridge: Bridge) => [new BridgeAdapter(bridge)]
const names = (room: Room<Cursor>) =>
  room
    .getMembers()
    .map((m) => m.presence?.name)
    .sort()

/** A hub that relays for any number of spokes, each on its own bridge. */
function star(count: number, options: RepoOptions = {}) {
  const bridges = Array.from({ length: count }, () => new Bridge())
  const hub = repo({
    ...options,
    peerId: "hub",
    relay: true,
    network: bridges.map((b) => new BridgeAdapter(b)),
  })
  const spokes = bridges.map((bridge, i) => repo({ ...options, peerId: `spoke-${i}`, network: on(bridge) }))
  return { hub, spokes, bridges }
}

describe("rooms over the bridge", () => {
  it("shows every member and its presence, the joiner included, once synced", async () => {
    const bridge = new Bridge()
    const a = repo({ peerId: "a", identity: { userId: "alice" }, network: on(bridge) })
    const b = repo({ peerId: "b", identity: { userId: "bob" }, network: on(bridge) })
    await quiet(bridge)
    const ra = a.joinRoom<Cursor>("lobby", { presence: { name: "A" } })
    const joined = next(ra, "member-joined")
    const rb = b.joinRoom<Cursor>("lobby", { presence: { name: "B" } })
    const { members, me } = await rb.whenSynced()
    expect(me).toMatchObject({ peerId: "b", userId: "bob", presence: { name: "B" }, self: true })
    expect(members.map((m) => [m.peerId, m.userId, m.presence])).toEqual([
      ["b", "bob", { name: "B" }],
      ["a", "alice", { name: "A" }],
    ])
    expect(await joined).toMatchObject({ peerId: "b", userId: "bob", presence: { name: "B" }, self: false })
  })

  it("relays through a hub between spokes that never meet", async () => {
    const { hub, spokes, bridges } = star(3)
    const rooms = spokes.map((s, i) => s.joinRoom<Cursor>("lobby", { presence: { name: `S${i}` } }))
    await Promise.all(rooms.map((room) => room.whenSynced()))
    await quiet(...bridges)
    for (const room of rooms) expect(names(room)).toEqual(["S0", "S1", "S2"])
    expect(hub.getRoom("lobby")?.getMembers()).toHaveLength(3)
    expect(spokes[0]?.getPeers().map((p) => p.peerId)).toEqual(["hub"])
  })

  it("reports presence changes as updates with the previous and current value, never as leave and join", async () => {
    const { spokes, bridges } = star(2)
    const [ra, rb] = spokes.map((s, i) => s.joinRoom<Cursor>("r", { presence: { name: `S${i}`, x: 0 } }))
    await quiet(...bridges)
    const seen: string[] = []
    rb?.on("member-joined", () => seen.push("joined"))
    rb?.on("member-left", () => seen.push("left"))
    const updated = next(rb as Room<Cursor>, "member-updated")
    ra?.updatePresence({ x: 5 })
    expect(await updated).toMatchObject({
      member: { peerId: "spoke-0" },
      previous: { name: "S0", x: 0 },
      current: { name: "S0", x: 5 },
    })
    expect(seen).toEqual([])
  })

  it("coalesces presence changes within the throttle window into one message", async () => {
    const bridge = new Bridge()
    const a = repo({ network: on(bridge), rooms: { presenceThrottle: 30 } })
    const b = repo({ network: on(bridge) })
    const ra = a.joinRoom<Cursor>("r", { presence: { name: "A", x: 0 } })
    const rb = b.joinRoom<Cursor>("r", { presence: { name: "B" } })
    await quiet(bridge)
    await rb.whenSynced()
    const values: (number | undefined)[] = []
    rb.on("member-updated", ({ current }) => values.push(current.x))
    for (let x = 1; x <= 20; x++) ra.updatePresence({ x })
    await eventually(() => values.at(-1) === 20)
    expect(values.length).toBeLessThanOrEqual(2)
  })

  it("shows an explicit leave and a clean disconnect at once", async () => {
    const { spokes, bridges } = star(3)
    const [r0, r1] = spokes.map((s, i) => s.joinRoom<Cursor>("r", { presence: { name: `S${i}` } }))
    await quiet(...bridges)
    const left = next(r0 as Room<Cursor>, "member-left")
    r1?.leave()
    expect(await left).toMatchObject({ peerId: "spoke-1", presence: { name: "S1" } })
    const gone = next(r0 as Room<Cursor>, "member-left")
    await spokes[2]?.shutdown()
    expect(await gone).toMatchObject({ peerId: "spoke-2" })
    expect(names(r0 as Room<Cursor>)).toEqual(["S0"])
  })

  it("removes a member that vanished silently after the presence timeout and the grace period", async () => {
    const keepalive = { interval: 20, timeout: 60 }
    const { spokes, bridges } = star(2, { keepalive, rooms: { reconnectGrace: 10 } })
    const [r0] = spokes.map((s, i) => s.joinRoom<Cursor>("r", { presence: { name: `S${i}` } }))
    await quiet(...bridges)
    const [, bridge1] = bridges
    const gone = next(r0 as Room<Cursor>, "member-left")
    // The hub's link to spoke 1 goes silent: nothing is closed, nothing more arrives.
    cutEverything(bridge1 as Bridge)
    expect(await gone).toMatchObject({ peerId: "spoke-1" })
  })

  it("shows no leave and no join when a member reconnects within the grace period", async () => {
    const { spokes, bridges } = star(2, { keepalive: false })
    const [r0, r1] = spokes.map((s, i) => s.joinRoom<Cursor>("r", { presence: { name: `S${i}` } }))
    await quiet(...bridges)
    const seen: string[] = []
    r0?.on("member-joined", (m) => seen.push(`joined ${m.peerId}`))
    r0?.on("member-left", (m) => seen.push(`left ${m.peerId}`))
    // Spoke 1's connection to the hub breaks and comes back.
    const synced = next(r1 as Room<Cursor>, "sync")
    bridges[1]?.reset()
    await synced
    await quiet(...bridges)
    r1?.updatePresence({ x: 1 })
    await next(r0 as Room<Cursor>, "member-updated")
    expect(seen).toEqual([])
    expect(names(r0 as Room<Cursor>)).toEqual(["S0", "S1"])
  })

  it("a reloaded tab (same peer id, new session) is no leave and no join, and its later presence is seen", async () => {
    const bridges = [new Bridge(), new Bridge(), new Bridge()]
    repo({ peerId: "hub", relay: true, keepalive: false, network: bridges.map((b) => new BridgeAdapter(b)) })
    const [b0, b1, b2] = bridges as [Bridge, Bridge, Bridge]
    const observer = repo({ peerId: "observer", keepalive: false, network: on(b0) })
    const tab = repo({ peerId: "tab", keepalive: false, network: on(b1) })
    const watching = observer.joinRoom<Cursor>("r", { presence: { name: "O" } })
    await tab.joinRoom<Cursor>("r", { presence: { name: "T", x: 0 } }).whenSynced()
    await quiet(...bridges)
    const seen: string[] = []
    watching.on("member-joined", (m) => seen.push(`joined ${m.peerId}`))
    watching.on("member-left", (m) => seen.push(`left ${m.peerId}`))
    // The old page's connection goes quiet; the reloaded page, same peer id, comes in on another.
    cutEverything(b1)
    const reloaded = repo({ peerId: "tab", keepalive: false, network: on(b2) })
    const room = reloaded.joinRoom<Cursor>("r", { presence: { name: "T", x: 1 } })
    await room.whenSynced()
    await quiet(b0, b2)
    const updated = next<{ current: Cursor }>(watching, "member-updated")
    room.updatePresence({ x: 2 })
    expect((await updated).current).toEqual({ name: "T", x: 2 })
    expect(seen).toEqual([])
  })

  it("creates a room on first join and destroys it after the last member left and the linger delay", async () => {
    const bridge = new Bridge()
    const a = repo({ network: on(bridge), rooms: { linger: 20 } })
    const created = next(a, "room-created")
    const room = a.joinRoom("ephemeral")
    expect(await created).toMatchObject({ roomId: "ephemeral", room })
    expect(a.getRooms().map((r) => r.id)).toEqual(["ephemeral"])
    const destroyed = next(a, "room-destroyed")
    room.leave()
    expect(a.getRoom("ephemeral")).toBeDefined()
    expect(await destroyed).toEqual({ roomId: "ephemeral" })
    expect(a.getRooms()).toEqual([])
  })

  it("broadcasts to the other members, to itself only when asked, and counts deliveries with ack", async () => {
    const { spokes, bridges } = star(3)
    const rooms = spokes.map((s, i) => s.joinRoom<Cursor>("chat", { presence: { name: `S${i}` } }))
    await Promise.all(rooms.map((room) => room.whenSynced()))
    await quiet(...bridges)
    const received: string[] = []
    rooms.forEach((room, i) => {
      room.on("broadcast", { event: "typing" }, ({ from, payload }) =>
        received.push(`${i}<-${from}:${JSON.stringify(payload)}`),
      )
    })
    expect(await rooms[0]?.broadcast("typing", { on: true }, { ack: true })).toBe(2)
    rooms[1]?.broadcast("typing", { on: false }, { self: true })
    rooms[1]?.broadcast("other", { ignored: true })
    await quiet(...bridges)
    expect(received.sort()).toEqual([
      '0<-spoke-1:{"on":false}',
      '1<-spoke-0:{"on":true}',
      '1<-spoke-1:{"on":false}',
      '2<-spoke-0:{"on":true}',
      '2<-spoke-1:{"on":false}',
    ])
  })

  it("counts deliveries in a mesh too, and resolves 0 with nobody there", async () => {
    const bridge = new Bridge()
    const peers = [
      repo({ network: on(bridge) }),
      repo({ network: on(bridge) }),
      repo({ network: on(bridge) }),
    ]
    const rooms = peers.map((p) => p.joinRoom("mesh"))
    await quiet(bridge)
    expect(await rooms[0]?.broadcast("ping", null, { ack: true })).toBe(2)
    const alone = repo().joinRoom("alone")
    expect(await alone.broadcast("ping", null, { ack: true })).toBe(0)
  })

  it("refuses presence and broadcasts over the limits with clear codes", async () => {
    const a = repo({ rooms: { maxPresenceBytes: 64, maxBroadcastBytes: 128 } })
    const room = a.joinRoom<{ blob: string }>("r")
    expect(() => room.setPresence({ blob: "x".repeat(100) })).toThrow(
      expect.objectContaining({ code: "PRESENCE_TOO_LARGE" }),
    )
    expect(() => room.broadcast("big", "y".repeat(200))).toThrow(
      expect.objectContaining({ code: "MESSAGE_TOO_LARGE" }),
    )
    expect(() => a.joinRoom("other", { presence: { blob: "z".repeat(100) } })).toThrow(
      expect.objectContaining({ code: "PRESENCE_TOO_LARGE" }),
    )
    room.setPresence({ blob: "ok" })
    expect(room.presence).toEqual({ blob: "ok" })
  })

  it("refuses a join past the member limit with ROOM_FULL, and the others see nothing", async () => {
    const bridges = [new Bridge(), new Bridge(), new Bridge()]
    repo({ relay: true, rooms: { maxMembers: 2 }, network: bridges.map((b) => new BridgeAdapter(b)) })
    const [first, second, third] = bridges.map((bridge, i) => repo({ peerId: `s${i}`, network: on(bridge) }))
    const r0 = first?.joinRoom("small") as Room
    await r0.whenSynced()
    await (second?.joinRoom("small") as Room).whenSynced()
    const seen: string[] = []
    r0.on("member-joined", (m) => seen.push(m.peerId))
    const refused = third?.joinRoom("small") as Room
    await expect(refused.whenSynced()).rejects.toMatchObject({ code: "ROOM_FULL" })
    await quiet(...bridges)
    expect(seen).toEqual([])
    expect(r0.getMembers().map((m) => m.peerId)).toEqual(["s0", "s1"])
  })

  it("groups members by user: a user joins with its first tab and leaves with its last", async () => {
    const { spokes, bridges } = star(3)
    const watcher = spokes[0]?.joinRoom("r") as Room
    await quiet(...bridges)
    const events: string[] = []
    watcher.on("user-joined", (user) => events.push(`joined ${user.key}`))
    watcher.on("user-left", (user) => events.push(`left ${user.key}`))
    const tab1 = new Repo({ identity: { userId: "carol" }, network: on(bridges[1] as Bridge) })
    const tab2 = new Repo({ identity: { userId: "carol" }, network: on(bridges[2] as Bridge) })
    repos.push(tab1, tab2)
    tab1.joinRoom("r")
    tab2.joinRoom("r")
    await quiet(...bridges)
    expect(watcher.getUsers().map((u) => [u.key, u.members.length])).toEqual([
      [`peer:${spokes[0]?.peerId}`, 1],
      ["carol", 2],
    ])
    tab1.leaveRoom("r")
    await quiet(...bridges)
    tab2.leaveRoom("r")
    await quiet(...bridges)
    expect(events).toEqual(["joined carol", "left carol"])
  })

  it("keeps presence working when clocks differ by ten minutes either way", async () => {
    const minutes = (n: number) => n * 60_000
    const skewed = (offset: number) => () => Date.now() + offset
    const bridges = [new Bridge(), new Bridge()]
    const options = { keepalive: { interval: 20, timeout: 200 } }
    repo({ ...options, relay: true, clock: skewed(0), network: bridges.map((b) => new BridgeAdapter(b)) })
    const behind = repo({
      ...options,
      peerId: "behind",
      clock: skewed(-minutes(10)),
      network: on(bridges[0] as Bridge),
    })
    const ahead = repo({
      ...options,
      peerId: "ahead",
      clock: skewed(minutes(10)),
      network: on(bridges[1] as Bridge),
    })
    const rb = behind.joinRoom<Cursor>("r", { presence: { name: "behind", x: 0 } })
    const ra = ahead.joinRoom<Cursor>("r", { presence: { name: "ahead", x: 0 } })
    await Promise.all([rb.whenSynced(), ra.whenSynced()])
    await quiet(...bridges)
    for (let x = 1; x <= 3; x++) {
      const moved = ({ current }: { current: Cursor }) => current.x === x
      const seenByAhead = next(ra, "member-updated", moved)
      const seenByBehind = next(rb, "member-updated", moved)
      rb.updatePresence({ x })
      ra.updatePresence({ x })
      await Promise.all([seenByAhead, seenByBehind])
    }
    // Longer than the presence timeout: nobody is dropped for looking old or new.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(names(ra)).toEqual(["ahead", "behind"])
    expect(names(rb)).toEqual(["ahead", "behind"])
    expect(ra.getMembers().find((m) => m.peerId === "behind")?.presence).toEqual({ name: "behind", x: 3 })
  })

  // Found by the rooms property test: the hub refused the spoke's join for arriving before its
  // hello and closed the link, and the bridge never opened that link again, heal or not.
  it.each([
    ["lost", { drop: 0.5 }],
    ["held back", { reorder: 0.5 }],
  ])("a spoke whose hello was %s, so that the hub refused its join, is back in the room after heal", async (_, faults) => {
    // The first fault roll hits the spoke's hello (the spoke opens the link): every later one misses.
    const rolls = [0]
    const bridge = new Bridge({ random: () => rolls.shift() ?? 1 })
    const hubSide = new Recording(new BridgeAdapter(bridge))
    const hub = repo({ peerId: "hub", relay: true, network: [hubSide] })
    bridge.setFaults(faults)
    const spoke = repo({ peerId: "spoke", network: on(bridge) })
    const room = spoke.joinRoom<Cursor>("lobby", { presence: { name: "S" } })
    await quiet(bridge)
    expect(hubSide.sent).toContainEqual(
      expect.objectContaining({ type: "error", message: "expected hello first" }),
    )
    bridge.heal()
    await room.whenSynced()
    await quiet(bridge)
    expect(hub.getRoom("lobby")?.getMembers()).toMatchObject([{ peerId: "spoke" }])
    expect(names(room)).toEqual(["S"])
  })

  it("a hello still held back at heal arrives before what the spoke sends after it", async () => {
    const rolls = [0]
    const bridge = new Bridge({ random: () => rolls.shift() ?? 1 })
    const hubSide = new Recording(new BridgeAdapter(bridge))
    const hub = repo({ peerId: "hub", relay: true, network: [hubSide] })
    bridge.setFaults({ reorder: 0.5 })
    const spoke = repo({ peerId: "spoke", network: on(bridge) })
    bridge.heal()
    const room = spoke.joinRoom<Cursor>("lobby", { presence: { name: "S" } })
    await room.whenSynced()
    await quiet(bridge)
    expect(hubSide.sent.filter((m) => m.type === "error")).toEqual([])
    expect(hub.getRoom("lobby")?.getMembers()).toMatchObject([{ peerId: "spoke" }])
  })

  it("never lets storage see room traffic", async () => {
    const storage = new InstrumentedStorage(new MemoryStorage())
    const bridge = new Bridge()
    const a = repo({ network: on(bridge), storage })
    const b = repo({ network: on(bridge) })
    const ra = a.joinRoom<Cursor>("r", { presence: { name: "A" } })
    const rb = b.joinRoom<Cursor>("r", { presence: { name: "B" } })
    await quiet(bridge)
    ra.updatePresence({ x: 1 })
    rb.broadcast("hello", { text: "hi" })
    await ra.broadcast("hello", null, { ack: true })
    rb.leave()
    await quiet(bridge)
    await a.flush()
    expect(storage.calls).toEqual([])
  })
})

/** Makes a bridge drop everything silently, as a network that stopped answering. */
function cutEverything(bridge: Bridge): void {
  bridge.setFaults({ drop: 1 })
}
