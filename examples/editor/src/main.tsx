import { WebSocketClientAdapter } from "@tandem/adapter-websocket"
import { TandemProvider } from "@tandem/react"
import { Repo } from "@tandem/repo"
import { IndexedDbStorage } from "@tandem/storage-indexeddb"
import { StrictMode } from "react"
import { createRoot } from "react-dom/client"
import { App } from "./app.js"
import { colourOf, readSettings } from "./settings.js"
import "./styles.css"

declare global {
  interface Window {
    /** The tab's repo and connection, for the console and for the browser tests. */
    tandem: { repo: Repo; network: WebSocketClientAdapter }
  }
}

const settings = readSettings(import.meta.env.VITE_TANDEM_URL ?? `ws://${location.hostname}:4100`)
// A local relay comes back fast: retry at least every 2 s instead of backing off to 30 s.
const network = new WebSocketClientAdapter({ url: settings.relay, reconnect: { maxDelay: 2_000 } })
const storage = await IndexedDbStorage.open({ database: "tandem-editor" })
const repo = new Repo({
  peerId: settings.peerId,
  identity: { name: settings.name },
  network: [network],
  storage,
})
window.tandem = { repo, network }

const root = document.getElementById("root")
if (root) {
  createRoot(root).render(
    <StrictMode>
      <TandemProvider repo={repo} connection={network}>
        <App docId={settings.docId} me={{ name: settings.name, colour: colourOf(settings.peerId) }} />
      </TandemProvider>
    </StrictMode>,
  )
}
