import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { Keepalive } from "../src/runtime/keepalive.js"

describe("Keepalive", () => {
  let pings: string[]
  let dead: string[]
  let keepalive: Keepalive
  beforeEach(() => {
    vi.useFakeTimers()
    pings = []
    dead = []
    keepalive = new Keepalive(
      { interval: 15_000, timeout: 30_000 },
      (id) => pings.push(id),
      (id) => dead.push(id),
      () => Date.now(),
    )
  })
  afterEach(() => {
    keepalive.stop()
    vi.useRealTimers()
  })

  it("pings a silent channel after the interval and closes it when the ping goes unanswered", () => {
    keepalive.heard("c")
    vi.advanceTimersByTime(14_000)
    expect(pings).toEqual([])
    vi.advanceTimersByTime(1_000)
    expect(pings).toEqual(["c"])
    vi.advanceTimersByTime(14_000)
    expect(dead).toEqual([])
    vi.advanceTimersByTime(1_100)
    expect(dead).toEqual(["c"])
  })

  it("keeps a channel whose pong arrives, and never pings a busy one", () => {
    keepalive.heard("idle")
    keepalive.heard("busy")
    for (let s = 0; s < 120; s++) {
      vi.advanceTimersByTime(1_000)
      keepalive.heard("busy")
      if (pings.at(-1) === "idle") {
        pings.push("answered")
        keepalive.heard("idle")
      }
    }
    expect(dead).toEqual([])
    expect(pings.filter((id) => id === "busy")).toEqual([])
    expect(pings.filter((id) => id === "idle").length).toBeGreaterThanOrEqual(7)
  })

  it("after a stall longer than the timeout, pings before it judges a channel it never pinged", () => {
    keepalive.heard("c")
    // The loop is blocked for a minute: the clock moves, no timer runs.
    vi.setSystemTime(Date.now() + 60_000)
    vi.advanceTimersByTime(1_000)
    expect(dead).toEqual([])
    expect(pings).toEqual(["c"])
    // A channel that really is gone is still found, once its ping goes unanswered.
    vi.advanceTimersByTime(15_100)
    expect(dead).toEqual(["c"])
  })

  it("reads what arrived during a stall before it calls a pinged channel dead", () => {
    keepalive.heard("c")
    vi.advanceTimersByTime(15_000)
    expect(pings).toEqual(["c"])
    // Stalled for 40 s with the pong waiting unread: the check runs first, the pong right after.
    vi.setSystemTime(Date.now() + 40_000)
    vi.advanceTimersByTime(1_000)
    keepalive.heard("c")
    vi.advanceTimersByTime(0)
    expect(dead).toEqual([])
  })

  it("stops judging once stopped", () => {
    keepalive.heard("c")
    vi.advanceTimersByTime(30_000)
    keepalive.stop()
    vi.advanceTimersByTime(60_000)
    expect(dead).toEqual([])
  })
})
