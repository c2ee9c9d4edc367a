import type { Awareness } from "y-protocols/awareness"
import type * as Y from "yjs"
import { type PresenceValue, TEXT } from "../content.js"
import type { ClientEvents } from "./client.js"

/** Presence as Yjs awareness: the local state is `{ p: value }`; a remote change is reported. */
export function watchAwareness(awareness: Awareness, events: ClientEvents): void {
  awareness.on("change", ({ added, updated }: { added: number[]; updated: number[] }, origin: unknown) => {
    if (origin === "local") return
    const states = awareness.getStates()
    for (const ids of [added, updated]) {
      for (const id of ids) {
        if (id === awareness.clientID) continue
        const state = states.get(id) as { p?: PresenceValue } | undefined
        if (state?.p) events.presence(state.p)
      }
    }
  })
}

/** Reports text inserted into the document by others. */
export function watchText(doc: Y.Doc, events: ClientEvents): Y.Text {
  const text = doc.getText(TEXT)
  text.observe((event) => {
    if (event.transaction.local) return
    for (const delta of event.delta) if (typeof delta.insert === "string") events.inserted(delta.insert)
  })
  return text
}
