import { WebSocketClientAdapter } from "@tandem/adapter-websocket"
import { type DocHandle, Repo, type Room } from "@tandem/repo"
import type { LoroText } from "loro-crdt"
import { WebSocket } from "ws"
import { initialPresence, type PresenceValue, TEXT } from "../content.js"
import type { ClientDriver } from "./client.js"

/** A Tandem repo per client, over the WebSocket client adapter, as an application would use it. */
export const driver: ClientDriver = {
  connect(url, spec, events) {
    const network = new WebSocketClientAdapter({ url, WebSocket: WebSocket as never })
    const repo = new Repo({ network: [network] })
    const handshake = new Promise<void>((resolve) => {
      const stop = repo.on("peer-connected", () => {
        stop()
        resolve()
      })
    })
    let room: Room<PresenceValue> | null = null
    let handle: DocHandle | null = null
    let text: LoroText | null = null
    const waits: Promise<unknown>[] = [handshake]
    if (spec.presence) {
      const joined = repo.joinRoom<PresenceValue>(spec.room, { presence: initialPresence(spec.id) })
      room = joined
      joined.on("member-updated", ({ current }) => events.presence(current))
      waits.push(joined.whenSynced())
    }
    if (spec.doc) {
      const opened = repo.get(spec.channel)
      handle = opened
      text = opened.doc.getText(TEXT)
      opened.on("change", ({ local, batch }) => {
        if (local) return
        for (const event of batch.events) {
          if (event.diff.type !== "text") continue
          for (const delta of event.diff.diff) if (delta.insert !== undefined) events.inserted(delta.insert)
        }
      })
      waits.push(
        opened.whenReady().then((status) => {
          if (status !== "ready") throw new Error(`document ${spec.channel} is ${status}`)
        }),
      )
    }
    return {
      ready: Promise.all(waits).then(() => {}),
      textLength: () => text?.length ?? 0,
      setPresence(value) {
        room?.setPresence(value)
      },
      append(inserted) {
        handle?.change((doc) => {
          const t = doc.getText(TEXT)
          t.insert(t.length, inserted)
        })
      },
      close: () => repo.shutdown(),
    }
  },
}
