import { WebSocketClientAdapter } from "@tandem/adapter-websocket"
import { Repo } from "@tandem/repo"
import { WebSocket } from "ws"

export interface DemoResult {
  /** The note every client ends up with. */
  text: string
  /** The members each client sees in the lobby. */
  members: string[][]
}

/**
 * One client per relay: each joins the lobby with its name and writes a line into a shared note.
 * Resolves once every client sees every member and every line, whichever relay it is on.
 */
export async function runDemo(urls: readonly string[]): Promise<DemoResult> {
  const names = ["Ada", "Grace", "Linus", "Barbara", "Ken"].slice(0, urls.length)
  const clients = urls.map(
    (url, i) =>
      new Repo({
        peerId: (names[i] as string).toLowerCase(),
        network: [new WebSocketClientAdapter({ url, WebSocket })],
      }),
  )
  try {
    const lobbies = clients.map((repo, i) =>
      repo.joinRoom("lobby", { presence: { name: names[i] as string } }),
    )
    const notes = clients.map((repo) => repo.get("notes"))
    for (const [i, note] of notes.entries()) {
      note.doc.getText("body").insert(0, `${names[i]} was here (via ${urls[i]})\n`)
      note.doc.commit()
    }
    const converged = () =>
      lobbies.every((lobby) => lobby.getMembers().length === clients.length) &&
      notes.every((note) => note.doc.getText("body").toString().split("\n").length === clients.length + 1) &&
      new Set(notes.map((note) => note.doc.getText("body").toString())).size === 1
    await new Promise<void>((resolve) => {
      const check = () => {
        if (!converged()) return
        for (const stop of stops) stop()
        resolve()
      }
      const stops = [
        ...lobbies.flatMap((lobby) => [lobby.on("member-joined", check), lobby.on("sync", check)]),
        ...notes.map((note) => note.on("change", check)),
      ]
      check()
    })
    return {
      text: notes[0]?.doc.getText("body").toString() ?? "",
      members: lobbies.map((lobby) =>
        lobby.getMembers().map((member) => String((member.presence as { name: string }).name)),
      ),
    }
  } finally {
    await Promise.all(clients.map((repo) => repo.shutdown()))
  }
}
