import { Cursor, type LoroDoc, type LoroText } from "loro-crdt"

/**
 * A selection as Loro cursors, encoded for presence (JSON). A cursor sticks to the character it
 * was placed at, so a selection sent before a remote edit still points at the same text after it.
 */
export type SharedSelection = {
  anchor: string
  head: string
}

export function shareSelection(text: LoroText, anchor: number, head: number): SharedSelection | null {
  const a = text.getCursor(anchor)
  const h = anchor === head ? a : text.getCursor(head)
  if (!a || !h) return null
  return { anchor: toBase64(a.encode()), head: toBase64(h.encode()) }
}

/** Where a shared selection is now in this document, or null if it cannot be placed yet. */
export function placeSelection(
  doc: LoroDoc,
  selection: SharedSelection,
): { anchor: number; head: number } | null {
  try {
    const anchor = doc.getCursorPos(Cursor.decode(fromBase64(selection.anchor)))?.offset
    const head = doc.getCursorPos(Cursor.decode(fromBase64(selection.head)))?.offset
    if (anchor === undefined || head === undefined) return null
    return { anchor, head }
  } catch {
    return null // a cursor into text this peer has not received yet
  }
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0))
}
