import { Bridge, BridgeAdapter, MemoryStorage, Repo, type RepoOptions } from "@tandem/repo"
import { afterEach, describe, expect, it } from "vitest"
import {
  DurableMemoryStorage,
  deferred,
  InstrumentedStorage,
  quiet,
  Recording,
  text,
  untilChanged,
  write,
} from "./helpers.js"

const repos: Repo[] = []
function repo(options: RepoOptions = {}): Repo {
  const made = new Repo(options)
  repos.push(made)
  return made
}
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.shutdown()))
})

/** A relay with its own storage and one bridge per client. */
function relayWith(storage: RepoOptions["storage"], clients: number, options: RepoOptions = {}) {
  const bridges = Array.from({ length: clients }, () => new Bridge())
  const relay = repo({
    ...options,
    relay: true,
    storage,
    saveDelay: 0,
    network: bridges.map((b) => new BridgeAdapter(b)),
  })
  return { relay, bridges }
}

describe("acknowledged writes", () => {
  it("a change is saving until a relay with durable storage has written it, then saved", async () => {
    const storage = new InstrumentedStorage(new DurableMemoryStorage())
    Object.assign(storage, { durable: true })
    const { bridges } = relayWith(storage, 1)
    const client = repo({ network: [new BridgeAdapter(bridges[0] as Bridge)] })
    const handle = client.get("notes")
    await handle.whenReady()
    expect(handle.syncStatus).toBe("saved")
    const gate = deferred()
    storage.gate = gate.promise
    write(handle, 0, "important")
    expect(handle.syncStatus).toBe("saving")
    await quiet(...bridges)
    expect(handle.syncStatus).toBe("saving")
    const acknowledged = handle.whenAcknowledged()
    gate.resolve()
    await acknowledged
    expect(handle.syncStatus).toBe("saved")
    expect(
      storage.calls.some((call) => call.startsWith("compact notes") || call.startsWith("append notes")),
    ).toBe(true)
  })

  it("never acknowledges from storage that is not durable", async () => {
    const { bridges } = relayWith(new MemoryStorage(), 1)
    const client = repo({ network: [new BridgeAdapter(bridges[0] as Bridge)] })
    const handle = client.get("notes")
    write(handle, 0, "x")
    await quiet(...bridges)
    await expect(handle.whenAcknowledged({ timeout: 50 })).rejects.toMatchObject({ code: "TIMEOUT" })
    expect(handle.syncStatus).toBe("saving")
  })

  it("acknowledges edits made offline once they reach the relay after reconnecting", async () => {
    const storage = new DurableMemoryStorage()
    const { bridges } = relayWith(storage, 1)
    const bridge = bridges[0] as Bridge
    const client = repo({ keepalive: false, network: [new BridgeAdapter(bridge)] })
    const handle = client.get("notes")
    write(handle, 0, "online;")
    await handle.whenAcknowledged()
    bridge.setFaults({ drop: 1 })
    write(handle, 0, "offline;")
    await quiet(bridge)
    expect(handle.syncStatus).toBe("saving")
    bridge.heal()
    await handle.whenAcknowledged()
    const reread = new Repo({ storage })
    const copy = reread.get("notes")
    await copy.whenReady()
    expect(text(copy)).toBe("offline;online;")
    await reread.shutdown()
  })
})

describe("closing and eviction", () => {
  it("a closed document stops syncing here, is freed, and opens again from the peers", async () => {
    const { bridges } = relayWith(new MemoryStorage(), 2)
    const recording = new Recording(new BridgeAdapter(bridges[0] as Bridge))
    const reader = repo({ network: [recording] })
    const writer = repo({ network: [new BridgeAdapter(bridges[1] as Bridge)] })
    const mine = reader.get("d")
    const theirs = writer.get("d")
    write(theirs, 0, "one;")
    await untilChanged(mine, () => text(mine) === "one;")
    mine.close()
    await quiet(...bridges)
    expect(mine.status).toBe("closed")
    expect(reader.has("d")).toBe(false)
    expect(() => write(mine, 0, "late")).toThrow(expect.objectContaining({ code: "DOC_CLOSED" }))
    recording.received.length = 0
    write(theirs, 0, "two;")
    await quiet(...bridges)
    expect(recording.received.filter((m) => m.type === "doc-update")).toEqual([])
    const again = reader.get("d")
    expect(again).not.toBe(mine)
    await untilChanged(again, () => text(again) === "two;one;")
  })

  it("closing writes what is pending first", async () => {
    const storage = new InstrumentedStorage(new MemoryStorage())
    const local = repo({ storage, saveDelay: 60_000 })
    const handle = local.get("d")
    write(handle, 0, "keep me")
    handle.close()
    await local.flush()
    expect(storage.calls).toContain("compact d")
    const again = local.get("d")
    await again.whenReady()
    expect(text(again)).toBe("keep me")
  })

  it("a relay evicts a document nobody syncs after the idle time, and loads it again on demand", async () => {
    const storage = new MemoryStorage()
    const { relay, bridges } = relayWith(storage, 1, { evictAfter: 20 })
    const client = repo({ network: [new BridgeAdapter(bridges[0] as Bridge)] })
    const handle = client.get("d")
    write(handle, 0, "stored")
    await quiet(...bridges)
    await relay.flush()
    expect(relay.has("d")).toBe(true)
    const evicted = new Promise((resolve) => relay.on("doc-evicted", resolve))
    handle.close()
    expect(await evicted).toEqual({ docId: "d" })
    expect(relay.has("d")).toBe(false)
    const again = client.get("d")
    await untilChanged(again, () => text(again) === "stored")
    expect(relay.has("d")).toBe(true)
  })
})
