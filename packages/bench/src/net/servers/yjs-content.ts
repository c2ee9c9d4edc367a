import * as Y from "yjs"
import { paragraphs, TEXT } from "../content.js"

/** A Yjs document with the same content as the other systems', as one update. */
export function yjsDocument(name: string, chars: number): Uint8Array {
  const doc = new Y.Doc()
  doc.getMap("meta").set("name", name)
  const text = doc.getText(TEXT)
  for (const paragraph of paragraphs(chars)) doc.transact(() => text.insert(text.length, paragraph))
  const update = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  return update
}
