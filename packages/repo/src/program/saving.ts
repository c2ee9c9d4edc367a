import type { ChannelId, DocId } from "../types.js"
import type { Command } from "./commands.js"
import { established, putDoc } from "./doc-state.js"
import type { Msg } from "./messages.js"
import type { DocModel, Model } from "./model.js"
import { type Step, unchanged } from "./step.js"

// Saving documents: changes collect for `saveDelay`, then one write goes to storage; a new
// document's first write is a snapshot, and updates that outgrow the snapshot are folded into a
// new one. Only one write per document is in flight at a time.

type Msgs<T extends Msg["type"]> = Extract<Msg, { type: T }>

export function storageSaved(model: Model, msg: Msgs<"storage/saved">): Step {
  const doc = model.docs.get(msg.docId)
  if (!doc) return unchanged(model)
  const save = msg.compacted
    ? { ...doc.save, writing: false, compactNext: false, snapshotBytes: msg.bytes, updateBytes: 0 }
    : { ...doc.save, writing: false, updateBytes: doc.save.updateBytes + msg.bytes }
  const commands: Command[] = []
  const ackTo = established(model, save.acking).filter((id) => doc.synced.has(id))
  if (ackTo.length > 0) commands.push({ type: "send-ack", docId: doc.id, to: ackTo })
  let next: DocModel = { ...doc, save: { ...save, acking: save.acking.clear() } }
  // Incremental updates that outgrew the snapshot are folded into a new one.
  if (!msg.compacted && save.updateBytes > save.snapshotBytes) {
    next = { ...next, save: { ...next.save, dirty: true, compactNext: true } }
  }
  if (next.save.dirty) next = schedule(model, next, commands, model.config.saveDelay)
  return [putDoc(model, next), commands]
}

/**
 * Updates that brought nothing new are already where the rest of the document is: once nothing
 * is waiting to be written, their senders can be acknowledged at once.
 */
export function ackIfWritten(doc: DocModel, from: ChannelId, commands: Command[]): DocModel {
  const { save } = doc
  if (!save.unacked.has(from) || save.dirty || save.writing || save.scheduled) return doc
  commands.push({ type: "send-ack", docId: doc.id, to: [from] })
  return { ...doc, save: { ...save, unacked: save.unacked.remove(from) } }
}

export function saveDue(model: Model, msg: Msgs<"timer/save">): Step {
  const doc = model.docs.get(msg.docId)
  if (!doc) return unchanged(model)
  const save = { ...doc.save, scheduled: false }
  if (!save.dirty || save.writing) return [putDoc(model, { ...doc, save }), []]
  return writeNow(model, { ...doc, save })
}

export function flush(model: Model): Step {
  let next = model
  const commands: Command[] = []
  for (const doc of model.docs.values()) {
    if (!doc.save.dirty || doc.save.writing) continue
    if (doc.save.scheduled) commands.push({ type: "cancel", id: saveTimer(doc.id) })
    const [written, write] = writeNow(next, { ...doc, save: { ...doc.save, scheduled: false } })
    next = written
    commands.push(...write)
  }
  return [next, commands]
}

export function markDirty(model: Model, doc: DocModel, commands: Command[]): DocModel {
  if (!model.hasStorage || doc.storage === "failed") return doc
  const dirty = { ...doc, save: { ...doc.save, dirty: true } }
  return schedule(model, dirty, commands, model.config.saveDelay)
}

export function schedule(model: Model, doc: DocModel, commands: Command[], delay: number): DocModel {
  if (doc.save.scheduled || doc.save.writing || !model.hasStorage) return doc
  commands.push({
    type: "schedule",
    id: saveTimer(doc.id),
    delay,
    message: { type: "timer/save", docId: doc.id },
  })
  return { ...doc, save: { ...doc.save, scheduled: true } }
}

export function writeNow(model: Model, doc: DocModel): Step {
  const { save } = doc
  const compact = save.compactNext || save.snapshotBytes === 0 || save.updateBytes > save.snapshotBytes
  const acking = save.acking.union(save.unacked)
  const next = {
    ...doc,
    save: { ...save, dirty: false, writing: true, acking, unacked: save.unacked.clear() },
  }
  return [putDoc(model, next), [{ type: "save", docId: doc.id, compact }]]
}

export function saveFailed(model: Model, doc: DocModel): Step {
  const commands: Command[] = []
  const { save } = doc
  // The next attempt covers what this one did.
  const failed = {
    ...doc,
    save: {
      ...save,
      writing: false,
      dirty: true,
      unacked: save.unacked.union(save.acking),
      acking: save.acking.clear(),
    },
  }
  return [putDoc(model, schedule(model, failed, commands, model.config.saveRetryDelay)), commands]
}

export function saveTimer(docId: DocId): string {
  return `save:${docId}`
}
