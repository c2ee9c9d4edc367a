import type { ChannelId, DocId } from "../types.js"
import type { Command } from "./commands.js"
import type { DocModel, DocStatus, Model } from "./model.js"
import type { Step } from "./step.js"

// Reading and writing documents in the model: shared by the sync, saving and eviction halves.

export function established(model: Model, ids: Iterable<ChannelId>): ChannelId[] {
  const out: ChannelId[] = []
  for (const id of ids) if (model.channels.get(id)?.peer) out.push(id)
  return out
}

export function putDoc(model: Model, doc: DocModel): Model {
  return { ...model, docs: model.docs.set(doc.id, doc) }
}

export function link(model: Model, channelId: ChannelId, docId: DocId): Model {
  const channel = model.channels.get(channelId)
  if (!channel || channel.docs.has(docId)) return model
  return {
    ...model,
    channels: model.channels.set(channelId, { ...channel, docs: channel.docs.add(docId) }),
  }
}

/** Stores the document and reports its status if it changed. */
export function finish(model: Model, doc: DocModel, commands: Command[]): Step {
  const status = statusOf(model, doc)
  if (status === doc.status) return [putDoc(model, doc), commands]
  return [
    putDoc(model, { ...doc, status }),
    [...commands, { type: "emit", event: { type: "doc-status", docId: doc.id, status } }],
  ]
}

export function settleAll(model: Model, docIds: Iterable<DocId>): Step {
  let next = model
  const commands: Command[] = []
  for (const docId of docIds) {
    const doc = next.docs.get(docId)
    if (!doc || doc.status !== "loading") continue
    const [settled, events] = finish(next, doc, [])
    next = settled
    commands.push(...events)
  }
  return [next, commands]
}

export function statusOf(model: Model, doc: DocModel): DocStatus {
  if (doc.status === "deleted") return "deleted"
  if (doc.hasContent) return "ready"
  if (doc.storage === "reading" || model.adaptersStarting > 0 || doc.awaiting.size > 0) {
    return "loading"
  }
  // A channel still shaking hands may be about to bring the document.
  if (model.channels.some((channel) => channel.peer === null)) return "loading"
  return "unavailable"
}

/** A channel to another instance of the same relay service. */
export function isRelayLink(model: Model, channelId: ChannelId): boolean {
  return model.channels.get(channelId)?.relayLink === true
}

/** Every established link to another instance of this relay service. */
export function relayLinks(model: Model): ChannelId[] {
  const out: ChannelId[] = []
  if (!model.self.relay) return out
  for (const channel of model.channels.values()) if (channel.relayLink && channel.peer) out.push(channel.id)
  return out
}
