import type { PeerMessage } from "../peer-message.js"
import type { Channel, NetworkAdapter, NetworkEvents } from "./network.js"

/** Faults the bridge injects into every link; probabilities are per message. */
export interface BridgeFaults {
  /** Each message waits this long (ms); order on a link is kept unless `reorder` says otherwise. */
  delay?: readonly [min: number, max: number]
  drop?: number
  duplicate?: number
  /** The message is held back and delivered after the next one on the same link. */
  reorder?: number
}

export interface BridgeOptions {
  /** The source of randomness for faults: pass a seeded one to replay a failing run. */
  random?: () => number
}

/**
 * An in-memory network: every adapter on a bridge gets a channel to every other one. Build a
 * hub topology from several bridges (the hub on all of them). For tests, the bridge injects
 * delays, drops, duplicates, reordering and partitions; `heal` ends them, and links that lost
 * messages are reset (closed and reopened), as a real connection would be.
 */
export class Bridge {
  readonly #adapters = new Set<BridgeAdapter>()
  readonly #links = new Set<Link>()
  readonly #random: () => number
  #faults: BridgeFaults = {}
  readonly #cut = new Set<Link>()
  readonly #queue: Delivery[] = []
  #scheduled = false
  #inFlight = 0
  readonly #quiet: (() => void)[] = []

  constructor(options: BridgeOptions = {}) {
    this.#random = options.random ?? Math.random
  }

  setFaults(faults: BridgeFaults): void {
    this.#faults = { ...faults }
  }

  /** Cuts every link between the two groups: messages vanish silently, as in a real partition. */
  partition(left: readonly BridgeAdapter[], right: readonly BridgeAdapter[]): void {
    for (const link of this.#links) {
      const [a, b] = [link.a.adapter, link.b.adapter]
      if ((left.includes(a) && right.includes(b)) || (left.includes(b) && right.includes(a))) {
        this.#cut.add(link)
        link.lossy = true
      }
    }
  }

  /** Ends every fault and partition; links that lost messages are reset and resync. */
  heal(): void {
    this.#faults = {}
    this.#cut.clear()
    // A message still held back goes now, before anything sent after the heal overtakes it.
    for (const link of this.#links) {
      this.#release(link, "a")
      this.#release(link, "b")
    }
    this.#reset((link) => link.lossy || !link.a.open || !link.b.open)
  }

  /** Breaks every link abruptly and opens it again at once, as a dropped and restored connection. */
  reset(): void {
    this.#reset(() => true)
  }

  #reset(which: (link: Link) => boolean): void {
    for (const link of [...this.#links]) {
      if (!which(link)) continue
      this.#links.delete(link)
      for (const end of [link.a, link.b]) {
        if (end.open) {
          end.open = false
          end.adapter.events?.closed(end, { clean: false, reason: "reset by heal" })
        }
      }
      const { adapter: x } = link.a
      const { adapter: y } = link.b
      if (this.#adapters.has(x) && this.#adapters.has(y)) this.#connect(x, y)
    }
  }

  /** Nothing is queued or delayed on the bridge right now. */
  get idle(): boolean {
    return this.#idle()
  }

  /** Resolves once no message is queued or delayed on the bridge. */
  whenQuiet(): Promise<void> {
    if (this.#idle()) return Promise.resolve()
    return new Promise((resolve) => this.#quiet.push(resolve))
  }

  /** @internal */
  join(adapter: BridgeAdapter): void {
    for (const other of this.#adapters) this.#connect(adapter, other)
    this.#adapters.add(adapter)
  }

  /** @internal */
  leave(adapter: BridgeAdapter): void {
    this.#adapters.delete(adapter)
    for (const link of [...this.#links]) {
      if (link.a.adapter === adapter || link.b.adapter === adapter) {
        const mine = link.a.adapter === adapter ? link.a : link.b
        mine.close(true)
      }
    }
  }

  /** @internal */
  send(from: End, message: PeerMessage): void {
    const link = from.link
    if (!from.open || !this.#links.has(link)) return
    if (this.#cut.has(link)) return
    const faults = this.#faults
    if (faults.drop && this.#random() < faults.drop) {
      link.lossy = true
      return
    }
    const copies = faults.duplicate && this.#random() < faults.duplicate ? 2 : 1
    for (let i = 0; i < copies; i++) this.#enqueue(from, message)
  }

  /** @internal */
  closeEnd(end: End, clean: boolean): void {
    if (!end.open) return
    end.open = false
    const { link } = end
    const other = end === link.a ? link.b : link.a
    // The far end hears of the close unless the link is cut: then it must notice by itself.
    if (this.#cut.has(link)) return
    // An end may close a link because of what faults did to it: a message that overtook a lost or
    // held-back hello is refused. Such a link stays listed (closed), so `heal` and `reset` open it
    // again, as a client whose connection broke reconnects; no real connection loses or reorders.
    if (!link.lossy && !link.reordered) this.#links.delete(link)
    this.#enqueueClose(other, clean)
  }

  #connect(x: BridgeAdapter, y: BridgeAdapter): void {
    const link = {} as Link
    link.a = new End(this, x, link)
    link.b = new End(this, y, link)
    link.lossy = false
    link.reordered = false
    link.held = { a: null, b: null }
    link.lastAt = { a: 0, b: 0 }
    this.#links.add(link)
    x.events?.opened(link.a)
    y.events?.opened(link.b)
  }

  #enqueue(from: End, message: PeerMessage): void {
    const link = from.link
    const side = from === link.a ? "a" : "b"
    const to = side === "a" ? link.b : link.a
    const faults = this.#faults
    const delivery: Delivery = { to, message, close: null }
    if (faults.reorder && link.held[side] === null && this.#random() < faults.reorder) {
      link.held[side] = delivery
      link.reordered = true
      this.#inFlight++
      // Released after the next message, or on its own if none follows soon.
      setTimeout(() => this.#release(link, side), 20)
      return
    }
    this.#schedule(link, side, delivery)
    this.#release(link, side)
  }

  #release(link: Link, side: "a" | "b"): void {
    const held = link.held[side]
    if (!held) return
    link.held[side] = null
    this.#inFlight--
    this.#schedule(link, side, held)
  }

  #schedule(link: Link, side: "a" | "b", delivery: Delivery): void {
    const { delay } = this.#faults
    if (!delay) {
      this.#queue.push(delivery)
      this.#kick()
      return
    }
    const [min, max] = delay
    const now = Date.now()
    // Keep the link in order: never deliver before the previous message on this side.
    const at = Math.max(link.lastAt[side], now + min + this.#random() * (max - min))
    link.lastAt[side] = at
    this.#inFlight++
    setTimeout(() => {
      this.#inFlight--
      this.#queue.push(delivery)
      this.#kick()
    }, at - now)
  }

  #enqueueClose(to: End, clean: boolean): void {
    this.#queue.push({ to, message: null, close: { clean } })
    this.#kick()
  }

  #kick(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    nextTask(() => this.#drain())
  }

  // Delivers what is queued now; what those deliveries send waits for the next task, so timers
  // and I/O get their turn as they would on a real network.
  #drain(): void {
    this.#scheduled = false
    const batch = this.#queue.splice(0, this.#queue.length)
    for (const { to, message, close } of batch) {
      if (close) {
        if (!to.open) continue
        to.open = false
        to.adapter.events?.closed(to, { clean: close.clean })
      } else if (message && to.open && this.#links.has(to.link) && !this.#cut.has(to.link)) {
        to.adapter.events?.received(to, message)
      }
    }
    if (this.#queue.length > 0) this.#kick()
    else if (this.#idle()) for (const resolve of this.#quiet.splice(0)) resolve()
  }

  #idle(): boolean {
    return this.#queue.length === 0 && this.#inFlight === 0
  }
}

/** One repo's attachment to a bridge. */
export class BridgeAdapter implements NetworkAdapter {
  readonly kind = "bridge"
  /** @internal */
  events: NetworkEvents | null = null

  constructor(readonly bridge: Bridge) {}

  async start(events: NetworkEvents): Promise<void> {
    this.events = events
    this.bridge.join(this)
  }

  async stop(): Promise<void> {
    this.bridge.leave(this)
    this.events = null
  }
}

interface Link {
  a: End
  b: End
  /** Lost a message (drop or partition): reset on heal. */
  lossy: boolean
  /** A message on it was held back (and may be overtaken). */
  reordered: boolean
  held: { a: Delivery | null; b: Delivery | null }
  lastAt: { a: number; b: number }
}

interface Delivery {
  to: End
  message: PeerMessage | null
  close: { clean: boolean } | null
}

class End implements Channel {
  open = true
  constructor(
    private readonly bridge: Bridge,
    readonly adapter: BridgeAdapter,
    readonly link: Link,
  ) {}

  send(message: PeerMessage): void {
    this.bridge.send(this, message)
  }

  close(clean: boolean): void {
    this.bridge.closeEnd(this, clean)
  }
}

const nextTask: (fn: () => void) => void =
  typeof setImmediate === "function"
    ? (fn) => setImmediate(fn)
    : (fn) => {
        const channel = new MessageChannel()
        channel.port1.onmessage = () => {
          channel.port1.close()
          fn()
        }
        channel.port2.postMessage(null)
      }
