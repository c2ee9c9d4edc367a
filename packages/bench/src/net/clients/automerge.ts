import { type AutomergeUrl, type DocHandle, Presence, Repo, splice } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import { initialPresence, type PresenceValue, TEXT } from "../content.js"
import type { BenchDoc } from "../servers/automerge.js"
import type { ClientDriver } from "./client.js"

/**
 * An automerge-repo Repo per client with the WebSocket client adapter. Presence is automerge-repo's
 * Presence API (ephemeral messages on the room's document handle), so a client in a room finds
 * the room's document even when it does not follow its text.
 */
export const driver: ClientDriver = {
  connect(url, spec, events) {
    const repo = new Repo({ network: [new WebSocketClientAdapter(url)] })
    const handshake = new Promise<void>((resolve) => repo.networkSubsystem.once("peer", () => resolve()))
    let handle: DocHandle<BenchDoc> | null = null
    let presence: Presence<{ p: PresenceValue }> | null = null
    let opened: Promise<void> = Promise.resolve()
    if (spec.presence || spec.doc) {
      // Asked before the handshake, find() gives up once the adapter's one-second wait for it ends.
      opened = handshake.then(async () => {
        const found = await repo.find<BenchDoc>(spec.channel as AutomergeUrl)
        handle = found
        if (spec.doc) {
          found.on("change", ({ patches }) => {
            for (const patch of patches) {
              if (patch.action === "splice" && patch.path[0] === TEXT) events.inserted(patch.value)
            }
          })
        }
        if (spec.presence) {
          const joined = new Presence<{ p: PresenceValue }>({ handle: found })
          presence = joined
          joined.on("update", ({ channel, value }) => {
            if (channel === "p") events.presence(value as PresenceValue)
          })
          joined.on("snapshot", ({ state }) => {
            const value = (state as { p?: PresenceValue }).p
            if (value) events.presence(value)
          })
          joined.start({ initialState: { p: initialPresence(spec.id) } })
        }
      })
    }
    return {
      ready: Promise.all([handshake, opened]).then(() => {}),
      textLength: () => (handle ? handle.doc()[TEXT].length : 0),
      setPresence(value) {
        presence?.broadcast("p", value)
      },
      append(inserted) {
        handle?.change((doc) => splice(doc, [TEXT], doc[TEXT].length, 0, inserted))
      },
      async close() {
        presence?.stop()
        await repo.shutdown()
      },
    }
  },
}
