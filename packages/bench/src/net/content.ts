/** The name of the text every system edits: a Loro/Yjs text container, an Automerge string field. */
export const TEXT = "text"

/**
 * Document content as a series of appends of `chunk` characters (a document built by typing and
 * pasting paragraphs, not one giant insert), seeded so every system holds the same text.
 */
export function paragraphs(totalChars: number, chunk = 4096, seed = 11): string[] {
  const random = seeded(seed)
  const words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor".split(" ")
  const out: string[] = []
  let left = totalChars
  while (left > 0) {
    let text = ""
    const size = Math.min(chunk, left)
    while (text.length < size) text += `${words[Math.floor(random() * words.length)]} `
    out.push(`${text.slice(0, size - 1)}\n`)
    left -= size
  }
  return out
}

/** What a sender stamps into a document edit; receivers find every stamp in what was inserted. */
export function editStamp(sender: number, seq: number, at: number): string {
  return `<${sender}:${seq}:${at.toFixed(3)}>`
}

const STAMP = /<(\d+):(\d+):(\d+\.\d+)>/g

export function* parseStamps(inserted: string): Generator<{ sender: number; seq: number; at: number }> {
  for (const match of inserted.matchAll(STAMP)) {
    yield { sender: Number(match[1]), seq: Number(match[2]), at: Number(match[3]) }
  }
}

/** What a sender puts in its presence: a cursor, plus who, which update and when. */
/** A type, not an interface: it must fit Tandem's `Json`, which needs an index signature. */
export type PresenceValue = {
  x: number
  y: number
  /** Sender (client index). */
  s: number
  /** Sequence number of the update, per sender. */
  n: number
  /** Shared-clock time of sending, ms. */
  t: number
}

/** mulberry32, as in ../fixture.ts (copied: child processes load nothing outside src/net). */
export function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Presence at join: stamped 0, so it is never counted as a delivery. */
export function initialPresence(sender: number): PresenceValue {
  return { x: 0, y: 0, s: sender, n: 0, t: 0 }
}
