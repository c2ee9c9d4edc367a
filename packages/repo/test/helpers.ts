import {
  type Bridge,
  type Channel,
  type DocHandle,
  MemoryStorage,
  type NetworkAdapter,
  type NetworkEvents,
  type PeerMessage,
  type StorageAdapter,
  type StoredDoc,
} from "@tandem/repo"

export function text(handle: DocHandle): string {
  return handle.doc.getText("t").toString()
}

export function write(handle: DocHandle, at: number, value: string): void {
  handle.change((doc) => doc.getText("t").insert(at, value))
}

/** Waits until `condition` holds, re-checking whenever the handle changes. */
export async function untilChanged(handle: DocHandle, condition: () => boolean): Promise<void> {
  while (!condition()) {
    await new Promise<void>((resolve) => {
      const stop = handle.on("change", () => {
        stop()
        resolve()
      })
    })
  }
}

/** Waits until no bridge has anything in flight (deliveries on one can cause sends on another). */
export async function quiet(...bridges: Bridge[]): Promise<void> {
  for (;;) {
    await Promise.all(bridges.map((bridge) => bridge.whenQuiet()))
    // Let what the last deliveries started (storage results, timers at 0) run, then look again.
    await new Promise((resolve) => setTimeout(resolve, 0))
    if (bridges.every((bridge) => bridge.idle)) return
  }
}

/** A network adapter that records every message its repo sends and receives. */
export class Recording implements NetworkAdapter {
  readonly kind: string
  readonly sent: PeerMessage[] = []
  readonly received: PeerMessage[] = []

  constructor(private readonly inner: NetworkAdapter) {
    this.kind = inner.kind
  }

  start(events: NetworkEvents): Promise<void> {
    const wrapped = new WeakMap<Channel, Channel>()
    const wrap = (channel: Channel): Channel => {
      let outer = wrapped.get(channel)
      if (!outer) {
        outer = {
          send: (message) => {
            this.sent.push(message)
            channel.send(message)
          },
          close: (clean) => channel.close(clean),
        }
        wrapped.set(channel, outer)
      }
      return outer
    }
    return this.inner.start({
      opened: (channel) => events.opened(wrap(channel)),
      received: (channel, message) => {
        this.received.push(message)
        events.received(wrap(channel), message)
      },
      closed: (channel, how) => events.closed(wrap(channel), how),
    })
  }

  stop(): Promise<void> {
    return this.inner.stop()
  }
}

/** Storage that counts calls and can be held up or made to fail. */
export class InstrumentedStorage implements StorageAdapter {
  readonly calls: string[] = []
  gate: Promise<void> = Promise.resolve()
  failLoad: string | null = null

  constructor(private readonly inner: StorageAdapter) {}

  async load(docId: string): Promise<StoredDoc | undefined> {
    this.calls.push(`load ${docId}`)
    await this.gate
    if (this.failLoad) throw new Error(this.failLoad)
    return this.inner.load(docId)
  }
  async append(docId: string, update: Uint8Array): Promise<void> {
    this.calls.push(`append ${docId}`)
    await this.gate
    return this.inner.append(docId, update)
  }
  async compact(docId: string, snapshot: Uint8Array): Promise<void> {
    this.calls.push(`compact ${docId}`)
    await this.gate
    return this.inner.compact(docId, snapshot)
  }
  async remove(docId: string): Promise<void> {
    this.calls.push(`remove ${docId}`)
    return this.inner.remove(docId)
  }
  list(): Promise<string[]> {
    return this.inner.list()
  }
}

/** A promise with its resolve function, to hold something up until the test says so. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {}
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Resolves with the next event of that name on a room (or anything with `on`). */
export function next<T>(
  emitter: { on(event: never, listener: (arg: T) => void): () => void },
  event: string,
  matches: (arg: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const stop = (emitter.on as (event: string, listener: (arg: T) => void) => () => void)(event, (arg) => {
      if (!matches(arg)) return
      stop()
      resolve(arg)
    })
  })
}

/** Re-checks `condition` until it holds or `ms` pass (for outcomes that arrive by a timer). */
export async function eventually(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition did not hold in time")
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Memory storage that claims durability: for protocol tests of acknowledgements (not of disks). */
export class DurableMemoryStorage extends MemoryStorage {
  readonly durable = true
}
