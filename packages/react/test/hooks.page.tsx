// The page of test/hooks.test.ts: components using every hook, under React's strict mode, driven
// by the test through `window.harness`.
import { WebSocketClientAdapter } from "@tandem/adapter-websocket"
import { Repo } from "@tandem/repo"
import { StrictMode, useState } from "react"
import { createRoot } from "react-dom/client"
import {
  TandemProvider,
  useBroadcast,
  useConnectionState,
  useDoc,
  useMembers,
  usePresence,
  useRoom,
  useUsers,
} from "../src/index.js"

type Presence = { name: string; typing?: boolean }

const params = new URLSearchParams(location.search)
const name = params.get("name") ?? "page"
const roomId = params.get("room") ?? "lobby"
const network = new WebSocketClientAdapter({ url: params.get("relay") ?? "" })
const repo = new Repo({ identity: { userId: params.get("user") ?? name }, network: [network] })

function RoomView({ roomId, label }: { roomId: string; label: string }) {
  const room = useRoom<Presence>(roomId, { name })
  const members = useMembers(room)
  const users = useUsers(room)
  const [presence, setPresence] = usePresence(room)
  const [heard, setHeard] = useState<string[]>([])
  const send = useBroadcast(room, "shout", ({ payload }) => setHeard((all) => [...all, String(payload)]))
  return (
    <section data-testid={label}>
      <ul className="members">
        {members.map((member) => (
          <li key={member.peerId}>
            {member.presence?.name ?? "?"}
            {member.presence?.typing ? " (typing)" : ""}
          </li>
        ))}
      </ul>
      <p className="users">{users.length} users</p>
      <p className="me">{presence?.typing ? "typing" : "idle"}</p>
      <p className="heard">{heard.join(",")}</p>
      <button type="button" className="type" onClick={() => setPresence({ typing: true })}>
        type
      </button>
      <button type="button" className="shout" onClick={() => send(`from ${name}`)}>
        shout
      </button>
    </section>
  )
}

function DocView({ docId }: { docId: string }) {
  const { doc, status, syncStatus, handle } = useDoc(docId)
  return (
    <section data-testid="doc">
      <p className="text">{doc.getText("body").toString()}</p>
      <p className="status">{status}</p>
      <p className="saved">{syncStatus}</p>
      <button
        type="button"
        className="write"
        onClick={() => handle.change((d) => d.getText("body").insert(0, name))}
      >
        write
      </button>
    </section>
  )
}

function Connection() {
  return <p data-testid="connection">{useConnectionState()}</p>
}

const views: { show: (which: string, on: boolean) => void } = { show: () => {} }

function App() {
  const [shown, setShown] = useState<Record<string, boolean>>({ first: false, second: false, doc: true })
  views.show = (which, on) => setShown((all) => ({ ...all, [which]: on }))
  return (
    <>
      <Connection />
      {shown.first && <RoomView roomId={roomId} label="first" />}
      {shown.second && <RoomView roomId={roomId} label="second" />}
      {shown.doc && <DocView docId="notes" />}
    </>
  )
}

const harness = {
  show: (which: string, on: boolean) => views.show(which, on),
  disconnect: () => network.stop(),
  joined: (roomId: string) => repo.getRoom(roomId)?.joined ?? false,
  peerId: repo.peerId,
}
;(window as unknown as { harness: typeof harness }).harness = harness

const root = document.getElementById("root")
if (root) {
  createRoot(root).render(
    <StrictMode>
      <TandemProvider repo={repo} connection={params.get("connection") === "none" ? undefined : network}>
        <App />
      </TandemProvider>
    </StrictMode>,
  )
}
