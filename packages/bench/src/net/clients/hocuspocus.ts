import { WebSocket } from "ws"
import type { Awareness } from "y-protocols/awareness"
import * as Y from "yjs"
import { initialPresence } from "../content.js"
import type { ClientDriver } from "./client.js"
import { watchAwareness, watchText } from "./yjs-common.js"

interface Provider {
  awareness: Awareness | null
  isSynced: boolean
  on(event: "synced", listener: () => void): void
  destroy(): void
}

// Imported by a name tsc does not follow (see servers/hocuspocus.ts).
const providerModule = "@hocuspocus/provider"
const { HocuspocusProvider } = (await import(providerModule)) as {
  HocuspocusProvider: new (configuration: Record<string, unknown>) => Provider
}

/**
 * A HocuspocusProvider per client (its own socket), on the room's document; presence is its
 * awareness. A client that only connects still opens a document: Hocuspocus has no connection
 * without one.
 */
export const driver: ClientDriver = {
  connect(url, spec, events) {
    const doc = new Y.Doc()
    const provider = new HocuspocusProvider({
      url,
      name: spec.channel,
      document: doc,
      WebSocketPolyfill: WebSocket as never,
    })
    const text = watchText(doc, events)
    const awareness = provider.awareness
    if (!awareness) throw new Error("the Hocuspocus provider has no awareness")
    if (spec.presence) awareness.setLocalState({ p: initialPresence(spec.id) })
    else awareness.setLocalState(null)
    watchAwareness(awareness, events)
    const ready = new Promise<void>((resolve) => {
      if (provider.isSynced) resolve()
      else provider.on("synced", () => resolve())
    })
    return {
      ready,
      textLength: () => text.length,
      setPresence(value) {
        awareness.setLocalState({ p: value })
      },
      append(inserted) {
        doc.transact(() => text.insert(text.length, inserted))
      },
      async close() {
        provider.destroy()
        doc.destroy()
      },
    }
  },
}
