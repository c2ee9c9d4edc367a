import { Bridge, BridgeAdapter, MemoryStorage, Repo } from "@tandem/repo"
import type { System } from "./system.js"

export const tandem: System = {
  name: "Tandem",

  async source(docId, snapshot) {
    const bridge = new Bridge()
    // Importing into handle.doc is not a change the repo hears of: a document enters a repo
    // through storage or a peer, so the source loads it from storage.
    const storage = new MemoryStorage()
    await storage.compact(docId, snapshot)
    const source = new Repo({ network: [new BridgeAdapter(bridge)], storage })
    const repos = [source]
    const handle = source.get(docId)
    const status = await handle.whenReady({ timeout: 10_000 })
    if (status !== "ready") throw new Error(`the source repo did not load the document: ${status}`)
    return {
      doc: handle.doc,
      join() {
        const peer = new Repo({ network: [new BridgeAdapter(bridge)] })
        repos.push(peer)
        return peer.get(docId).doc
      },
      close: () => shutdownAll(repos),
    }
  },

  async hub(docId, observers) {
    const bridges = Array.from({ length: observers + 1 }, () => new Bridge())
    const hub = new Repo({ relay: true, network: bridges.map((bridge) => new BridgeAdapter(bridge)) })
    const spokes = bridges.map((bridge) => new Repo({ network: [new BridgeAdapter(bridge)] }))
    const docs = spokes.map((spoke) => spoke.get(docId).doc)
    const [writer, ...rest] = docs
    if (!writer) throw new Error("a hub needs a writer")
    return {
      writer,
      observers: rest,
      close: () => shutdownAll([hub, ...spokes]),
    }
  },
}

async function shutdownAll(repos: readonly Repo[]): Promise<void> {
  await Promise.all(repos.map((repo) => repo.shutdown()))
}
