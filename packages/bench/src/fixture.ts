import { LoroDoc, type VersionVector } from "loro-crdt"

/** The text container every scenario edits. */
export const TEXT = "text"

export interface Fixture {
  snapshot: Uint8Array
  version: VersionVector
  text: string
  operations: number
}

/**
 * A document as a person would build it: single-character inserts at random places, committed
 * every `batch` keystrokes. Seeded, so every run syncs the same bytes.
 */
export function buildFixture(operations: number, batch = 100, seed = 42): Fixture {
  const random = seeded(seed)
  const doc = new LoroDoc()
  doc.setPeerId(1n)
  const text = doc.getText(TEXT)
  for (let i = 0; i < operations; i++) {
    text.insert(Math.floor(random() * (text.length + 1)), letter(random))
    if ((i + 1) % batch === 0) doc.commit()
  }
  doc.commit()
  return {
    snapshot: doc.export({ mode: "snapshot" }),
    version: doc.oplogVersion(),
    text: text.toString(),
    operations,
  }
}

export function letter(random: () => number): string {
  return String.fromCharCode(97 + Math.floor(random() * 26))
}

/** mulberry32: small, fast, and good enough to scatter edits. */
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
