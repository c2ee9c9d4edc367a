import type { DocClose } from "../peer-message.js"
import type { ChannelId, DocId } from "../types.js"
import type { Command } from "./commands.js"
import { established, putDoc } from "./doc-state.js"
import type { Msg } from "./messages.js"
import type { DocModel, Model } from "./model.js"
import { saveTimer, writeNow } from "./saving.js"
import { type Step, unchanged } from "./step.js"

// When documents leave memory. The application closes what it opened (after it is written);
// a document nobody opened and no channel syncs is evicted after `evictAfter`, and loaded from
// storage again if someone asks for it.

type Msgs<T extends Msg["type"]> = Extract<Msg, { type: T }>

export function closeDoc(model: Model, msg: Msgs<"doc/close">): Step {
  const doc = model.docs.get(msg.docId)
  if (!doc) return unchanged(model)
  const closing: DocModel = { ...doc, wanted: false, closing: true }
  if (!doc.save.dirty && !doc.save.writing) return finishClose(model, closing)
  // Write what is pending first; the close completes when storage has it.
  if (doc.save.writing) return [putDoc(model, closing), []]
  const commands: Command[] = doc.save.scheduled ? [{ type: "cancel", id: saveTimer(doc.id) }] : []
  const [written, write] = writeNow(model, { ...closing, save: { ...closing.save, scheduled: false } })
  return [written, [...commands, ...write]]
}

/** The far end closed the document: it gets no more of its updates. */
export function closeReceived(model: Model, from: ChannelId, msg: DocClose): Step {
  const doc = model.docs.get(msg.docId)
  if (!doc?.synced.has(from)) return unchanged(model)
  const commands: Command[] = []
  const next = scheduleEviction(model, { ...doc, synced: doc.synced.remove(from) }, commands)
  return [putDoc(model, next), commands]
}

/** A write landed: a closing document may now leave, an idle one may be evicted later. */
export function afterWrite(model: Model, docId: DocId): Step {
  const doc = model.docs.get(docId)
  if (!doc) return unchanged(model)
  if (doc.closing && !doc.save.dirty && !doc.save.writing) return finishClose(model, doc)
  const commands: Command[] = []
  return [putDoc(model, scheduleEviction(model, doc, commands)), commands]
}

export function evictDue(model: Model, msg: Msgs<"timer/evict">): Step {
  const doc = model.docs.get(msg.docId)
  if (!doc) return unchanged(model)
  if (!isIdle(doc)) return [putDoc(model, { ...doc, evictScheduled: false }), []]
  return [
    { ...model, docs: model.docs.remove(doc.id) },
    [
      { type: "drop-doc", docId: doc.id },
      { type: "emit", event: { type: "doc-evicted", docId: doc.id } },
    ],
  ]
}

/** Schedules an eviction check for a document that nobody uses any more. */
export function scheduleEviction(model: Model, doc: DocModel, commands: Command[]): DocModel {
  if (doc.evictScheduled || !isIdle(doc)) return doc
  commands.push({
    type: "schedule",
    id: evictTimer(doc.id),
    delay: model.config.evictAfter,
    message: { type: "timer/evict", docId: doc.id },
  })
  return { ...doc, evictScheduled: true }
}

function finishClose(model: Model, doc: DocModel): Step {
  const commands: Command[] = []
  const to = established(model, doc.synced)
  if (to.length > 0) commands.push({ type: "send", to, message: { type: "doc-close", docId: doc.id } })
  if (doc.evictScheduled) commands.push({ type: "cancel", id: evictTimer(doc.id) })
  commands.push({ type: "drop-doc", docId: doc.id })
  commands.push({ type: "emit", event: { type: "doc-status", docId: doc.id, status: "closed" } })
  return [{ ...model, docs: model.docs.remove(doc.id) }, commands]
}

function isIdle(doc: DocModel): boolean {
  const { save } = doc
  return (
    !doc.wanted &&
    !doc.closing &&
    doc.synced.size === 0 &&
    doc.awaiting.size === 0 &&
    doc.deferred.size === 0 &&
    !save.dirty &&
    !save.writing &&
    doc.storage !== "reading"
  )
}

function evictTimer(docId: DocId): string {
  return `evict:${docId}`
}
