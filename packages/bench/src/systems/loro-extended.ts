import { Bridge, BridgeAdapter, Repo, Shape } from "@loro-extended/repo"
import { TEXT } from "../fixture.js"
import type { System } from "./system.js"

// The root text container, typed so that handle.loroDoc.getText(TEXT) is the same container.
const shape = Shape.doc({ [TEXT]: Shape.text() })

export const loroExtended: System = {
  name: "loro-extended",

  async source(docId, snapshot) {
    const bridge = new Bridge()
    const repos: Repo[] = []
    const source = add(repos, new Repo({ adapters: [new BridgeAdapter({ adapterType: "source", bridge })] }))
    // loro-extended serves whatever its LoroDoc holds, so importing is how a document enters it.
    const doc = source.get(docId, shape).loroDoc
    doc.import(snapshot)
    return {
      doc,
      join() {
        const adapterType = `peer-${repos.length}`
        const peer = add(repos, new Repo({ adapters: [new BridgeAdapter({ adapterType, bridge })] }))
        return peer.get(docId, shape).loroDoc
      },
      close: async () => shutdownAll(repos),
    }
  },

  async hub(docId, observers) {
    const bridges = Array.from({ length: observers + 1 }, () => new Bridge())
    const repos: Repo[] = []
    // No relay switch: a repo between others forwards what it imports to its other subscribers.
    add(
      repos,
      new Repo({
        adapters: bridges.map((bridge, i) => new BridgeAdapter({ adapterType: `hub-${i}`, bridge })),
      }),
    )
    const docs = bridges.map((bridge, i) => {
      const spoke = add(
        repos,
        new Repo({ adapters: [new BridgeAdapter({ adapterType: `spoke-${i}`, bridge })] }),
      )
      return spoke.get(docId, shape).loroDoc
    })
    const [writer, ...rest] = docs
    if (!writer) throw new Error("a hub needs a writer")
    return {
      writer,
      observers: rest,
      close: async () => shutdownAll(repos),
    }
  },
}

function add(repos: Repo[], repo: Repo): Repo {
  repos.push(repo)
  return repo
}

// reset() disconnects the adapters but leaves the ephemeral heartbeat running: stop it too.
// It also never ends the repo's subscribeLocalUpdates subscriptions, whose callbacks keep the
// documents reachable, so their WebAssembly memory would pile up round after round and slow
// whatever runs next: free them.
function shutdownAll(repos: readonly Repo[]): void {
  for (const repo of repos) {
    const docs = [...repo.synchronizer.model.documents.values()].map((state) => state.doc)
    repo.synchronizer.stopHeartbeat()
    repo.reset()
    for (const doc of docs) doc.free()
  }
}
