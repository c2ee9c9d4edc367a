/** Who is typing, with when each stops being shown (ms, by this tab's clock). */
export type Typing = ReadonlyMap<string, { name: string; until: number }>

/** How long a "typing" broadcast is shown; typists repeat it more often than this. */
export const TYPING_SHOWN_FOR = 4_000
export const TYPING_REPEAT_EVERY = 2_000

export type TypingEvent =
  | { type: "typing"; peerId: string; name: string; now: number }
  | { type: "stopped"; peerId: string }
  | { type: "left"; peerId: string }
  | { type: "tick"; now: number }

export function nextTyping(typing: Typing, event: TypingEvent): Typing {
  const next = new Map(typing)
  switch (event.type) {
    case "typing":
      next.set(event.peerId, { name: event.name, until: event.now + TYPING_SHOWN_FOR })
      return next
    case "stopped":
    case "left":
      if (!next.delete(event.peerId)) return typing
      return next
    case "tick":
      for (const [peerId, entry] of next) if (entry.until <= event.now) next.delete(peerId)
      return next.size === typing.size ? typing : next
  }
}

/** "Ada is typing…", "Ada and Grace are typing…", "3 people are typing…". */
export function typingLine(typing: Typing): string {
  const names = [...new Set([...typing.values()].map((entry) => entry.name))]
  if (names.length === 0) return ""
  if (names.length === 1) return `${names[0]} is typing…`
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`
  return `${names.length} people are typing…`
}
