import { LoroDoc, type LoroText } from "loro-crdt"
import { letter, seeded } from "../fixture.js"

/** The text container every storage scenario edits. */
export const TEXT = "text"

/**
 * Someone typing: one character at a time at a cursor that moves on as they type, now and then
 * jumping elsewhere, and sometimes a backspace. Seeded, so every run writes the same edits.
 */
export function typist(seed = 1): (text: LoroText) => void {
  const random = seeded(seed)
  let cursor = 0
  return (text) => {
    cursor = Math.min(cursor, text.length)
    const roll = random()
    if (roll < 0.05) cursor = Math.floor(random() * (text.length + 1))
    if (roll > 0.92 && cursor > 0) {
      text.delete(cursor - 1, 1)
      cursor--
      return
    }
    text.insert(cursor, letter(random))
    cursor++
  }
}

/** `count` keystrokes, each committed on its own: the Loro update of each, and the document. */
export function typingUpdates(count: number, seed = 1): { updates: Uint8Array[]; doc: LoroDoc } {
  const doc = new LoroDoc()
  doc.setPeerId(1n)
  const updates: Uint8Array[] = []
  const unsubscribe = doc.subscribeLocalUpdates((update) => updates.push(update))
  const keystroke = typist(seed)
  const text = doc.getText(TEXT)
  for (let i = 0; i < count; i++) {
    keystroke(text)
    doc.commit()
  }
  unsubscribe()
  return { updates, doc }
}
