import { describe, expect, it } from "vitest"
import { nextTyping, TYPING_SHOWN_FOR, type Typing, typingLine } from "../src/typing.js"

const none: Typing = new Map()

describe("typing indicator", () => {
  it("shows a typist until the broadcast expires, or until they stop or leave", () => {
    const ada = nextTyping(none, { type: "typing", peerId: "a", name: "Ada", now: 0 })
    expect(typingLine(ada)).toBe("Ada is typing…")
    expect(typingLine(nextTyping(ada, { type: "tick", now: TYPING_SHOWN_FOR - 1 }))).toBe("Ada is typing…")
    expect(typingLine(nextTyping(ada, { type: "tick", now: TYPING_SHOWN_FOR }))).toBe("")
    expect(typingLine(nextTyping(ada, { type: "stopped", peerId: "a" }))).toBe("")
    expect(typingLine(nextTyping(ada, { type: "left", peerId: "a" }))).toBe("")
  })

  it("names one user once however many tabs type, and counts past two", () => {
    let typing = none
    typing = nextTyping(typing, { type: "typing", peerId: "a1", name: "Ada", now: 0 })
    typing = nextTyping(typing, { type: "typing", peerId: "a2", name: "Ada", now: 0 })
    expect(typingLine(typing)).toBe("Ada is typing…")
    typing = nextTyping(typing, { type: "typing", peerId: "g", name: "Grace", now: 0 })
    expect(typingLine(typing)).toBe("Ada and Grace are typing…")
    typing = nextTyping(typing, { type: "typing", peerId: "k", name: "Ken", now: 0 })
    expect(typingLine(typing)).toBe("3 people are typing…")
  })

  it("keeps the same map when nothing changed, so React does not re-render", () => {
    const ada = nextTyping(none, { type: "typing", peerId: "a", name: "Ada", now: 0 })
    expect(nextTyping(ada, { type: "tick", now: 1 })).toBe(ada)
    expect(nextTyping(ada, { type: "stopped", peerId: "nobody" })).toBe(ada)
  })
})
