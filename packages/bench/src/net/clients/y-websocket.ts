import { WebSocket } from "ws"
import { WebsocketProvider } from "y-websocket"
import * as Y from "yjs"
import { initialPresence } from "../content.js"
import type { ClientDriver } from "./client.js"
import { watchAwareness, watchText } from "./yjs-common.js"

/**
 * y-websocket's WebsocketProvider per client on the room's document (BroadcastChannel off: in
 * Node it would let clients of one process talk past the server); presence is its awareness.
 */
export const driver: ClientDriver = {
  connect(url, spec, events) {
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(url, spec.channel, doc, {
      WebSocketPolyfill: WebSocket as never,
      disableBc: true,
    })
    const text = watchText(doc, events)
    const awareness = provider.awareness
    if (spec.presence) awareness.setLocalState({ p: initialPresence(spec.id) })
    else awareness.setLocalState(null)
    watchAwareness(awareness, events)
    const ready = new Promise<void>((resolve) => {
      if (provider.synced) resolve()
      else
        provider.on("sync", (synced: boolean) => {
          if (synced) resolve()
        })
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
