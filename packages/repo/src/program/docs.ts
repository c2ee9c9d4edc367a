import type { DocDelete, DocUpdate, SyncRequest, SyncResponse } from "../peer-message.js"
import type { ChannelId, DocId } from "../types.js"
import type { Command } from "./commands.js"
import { established, finish, isRelayLink, link, putDoc, relayLinks, settleAll } from "./doc-state.js"
import { scheduleEviction } from "./lifecycle.js"
import type { Msg } from "./messages.js"
import { type DocModel, type Model, newDoc } from "./model.js"
import { ackIfWritten, markDirty, saveFailed, saveTimer } from "./saving.js"
import { type Step, unchanged } from "./step.js"

// The document half of the synchronizer. A document is *synced* over a channel once either side
// asked for it there; from then on live updates flow both ways on that channel. A relay passes
// what it receives on to its other synced channels; other peers never forward.
//
// Relay links (other instances of the same relay service) are not subscribed per document: every
// update a relay hears from a client goes to every link, and what a link brings goes only to
// clients. A relay asks its links for a document when a client first brings it into memory, so
// it serves what the other instances have even if it missed some of their updates.

type Msgs<T extends Msg["type"]> = Extract<Msg, { type: T }>

export function openDoc(model: Model, msg: Msgs<"doc/open">): Step {
  const base = model.deleted.has(msg.docId) ? { ...model, deleted: model.deleted.remove(msg.docId) } : model
  const existing = base.docs.get(msg.docId)
  if (existing?.wanted) return unchanged(base)
  if (existing) return requestWhereMissing(base, { ...existing, wanted: true })

  const doc = newDoc(msg.docId, base.hasStorage, true)
  const created: Command = { type: "emit", event: { type: "doc-created", docId: doc.id } }
  if (doc.storage === "reading") return [putDoc(base, doc), [created, { type: "load", docId: doc.id }]]
  const [next, commands] = requestWhereMissing(base, doc)
  return [next, [created, ...commands]]
}

export function deleteDoc(model: Model, msg: Msgs<"doc/delete">): Step {
  return purge(model, msg.docId, null)
}

export function localChange(model: Model, msg: Msgs<"doc/local-change">): Step {
  const doc = model.docs.get(msg.docId)
  if (!doc) return unchanged(model)
  const commands: Command[] = []
  const to = [...established(model, doc.synced).filter((id) => !isRelayLink(model, id)), ...relayLinks(model)]
  if (to.length > 0) {
    commands.push({ type: "send", to, message: { type: "doc-update", docId: doc.id, data: msg.data } })
  }
  return finish(model, markDirty(model, { ...doc, hasContent: true }, commands), commands)
}

export function storageLoaded(model: Model, msg: Msgs<"storage/loaded">): Step {
  const doc = model.docs.get(msg.docId)
  if (!doc) return unchanged(model)
  const commands: Command[] = []
  let next: DocModel = {
    ...doc,
    storage: msg.found ? "found" : "empty",
    hasContent: doc.hasContent || msg.found,
    save: { ...doc.save, snapshotBytes: msg.snapshotBytes, updateBytes: msg.updateBytes },
  }
  if (msg.mergedUnsaved) {
    next = markDirty(model, { ...next, save: { ...next.save, compactNext: true } }, commands)
  }
  const [settled, more] = storageSettled(model, next)
  return [settled, [...commands, ...more]]
}

/** Storage answered (or failed to): answer who asked meanwhile, then ask the peers. */
function storageSettled(model: Model, doc: DocModel): Step {
  const waiting = askLinksBeforeAnswering(model, doc)
  if (waiting) return waiting
  const [base, commands] = answerDeferred(model, doc)
  const next = base.docs.get(doc.id) ?? doc
  // Asked for something it does not have and does not keep for others: nothing to hold on to.
  if (!next.wanted && !next.hasContent && !model.self.relay) {
    return [{ ...base, docs: base.docs.remove(doc.id) }, [...commands, { type: "drop-doc", docId: doc.id }]]
  }
  if (!next.wanted) {
    const [asked, asks] = askRelayLinks(base, next)
    return [asked, [...commands, ...asks]]
  }
  const [requested, requests] = requestWhereMissing(base, next)
  return [requested, [...commands, ...requests]]
}

/** Answers the requests that waited for storage (or for the other instances). */
function answerDeferred(model: Model, doc: DocModel): Step {
  const commands: Command[] = []
  let next: DocModel = { ...doc, deferred: doc.deferred.clear() }
  let base = putDoc(model, next)
  for (const [channelId, request] of doc.deferred) {
    const [answered, answer] = answerRequest(base, next, channelId, request.version, request.ref)
    base = answered
    next = base.docs.get(doc.id) ?? next
    commands.push(...answer)
  }
  return [base, commands]
}

/**
 * Any instance of a relay service serves any document: one whose own storage lacks a document a
 * client asks for asks the other instances, and holds the client's request until they answered,
 * rather than calling the document unavailable.
 */
function askLinksBeforeAnswering(model: Model, doc: DocModel): Step | null {
  if (doc.hasContent || !doc.deferred.keySeq().some((id) => !isRelayLink(model, id))) return null
  const to = relayLinks(model).filter((id) => !doc.awaiting.has(id))
  return to.length > 0 ? requestFrom(model, doc, to) : null
}

function waitsForLinks(model: Model, doc: DocModel): boolean {
  return !doc.hasContent && doc.awaiting.some((id) => isRelayLink(model, id))
}

/** A link answered or went away: the held requests are answered once no link is awaited. */
function answerOnceLinksAnswered(model: Model, doc: DocModel, commands: Command[]): Step {
  const [finished, events] = finish(model, doc, commands)
  const next = finished.docs.get(doc.id)
  if (!next || next.deferred.size === 0 || next.storage === "reading" || waitsForLinks(finished, next)) {
    return [finished, events]
  }
  const [answered, answers] = answerDeferred(finished, next)
  return [answered, [...events, ...answers]]
}

export function storageFailed(model: Model, msg: Msgs<"storage/failed">): Step {
  const doc = model.docs.get(msg.docId)
  const commands: Command[] = [
    {
      type: "emit",
      event: {
        type: "error",
        error: {
          code: "STORAGE_FAILED",
          message: `storage could not ${msg.operation} ${msg.docId}: ${msg.error}`,
          docId: msg.docId,
        },
      },
    },
  ]
  if (!doc) return [model, commands]
  if (msg.operation === "load") {
    // Carry on without what storage holds, and never write over it: it may be repairable.
    const [settled, more] = storageSettled(model, { ...doc, storage: "failed" })
    return [settled, [...commands, ...more]]
  }
  if (msg.operation === "save") {
    const [retried, retry] = saveFailed(model, doc)
    return [retried, [...commands, ...retry]]
  }
  return [model, commands]
}

export function imported(model: Model, msg: Msgs<"doc/imported">): Step {
  const doc = model.docs.get(msg.docId)
  if (!doc) return unchanged(model)
  const commands: Command[] = []
  if (msg.invalid) {
    commands.push({
      type: "send",
      to: [msg.from],
      message: {
        type: "error",
        code: "INVALID_MESSAGE",
        message: `the update for ${doc.id} is not a valid Loro update`,
        docId: doc.id,
      },
    })
    return [model, commands]
  }
  let next = doc
  if (msg.applied) next = markDirty(model, { ...next, hasContent: true }, commands)
  else next = ackIfWritten(next, msg.from, commands)
  // Bytes that wait for changes we never saw reveal a gap: the sender can fill it.
  if (msg.pending && !next.awaiting.has(msg.from) && model.channels.has(msg.from)) {
    next = { ...next, awaiting: next.awaiting.add(msg.from) }
    commands.push({ type: "request-sync", to: [msg.from], docId: doc.id })
    return finish(link(model, msg.from, doc.id), next, commands)
  }
  return finish(model, next, commands)
}

export function adapterStarted(model: Model): Step {
  const next = { ...model, adaptersStarting: Math.max(0, model.adaptersStarting - 1) }
  return settleAll(next, next.docs.keySeq())
}

// --- messages from peers ---

export function syncRequested(model: Model, from: ChannelId, msg: SyncRequest): Step {
  if (model.deleted.has(msg.docId)) {
    return [model, [{ type: "send", to: [from], message: { type: "doc-delete", docId: msg.docId } }]]
  }
  const existing = model.docs.get(msg.docId)
  if (!existing && !model.self.relay && !model.hasStorage) {
    return [model, [unavailable(from, msg.docId, msg.id)]]
  }
  const commands: Command[] = []
  let base = model
  let doc = existing
  if (!doc) {
    doc = newDoc(msg.docId, model.hasStorage, false)
    commands.push({ type: "emit", event: { type: "doc-created", docId: doc.id } })
    if (doc.storage === "reading") commands.push({ type: "load", docId: doc.id })
  }
  if (doc.storage === "reading" || (waitsForLinks(model, doc) && !isRelayLink(model, from))) {
    doc = { ...doc, deferred: doc.deferred.set(from, { version: msg.version, ref: msg.id }) }
    return [link(putDoc(base, doc), from, doc.id), commands]
  }
  if (!doc.hasContent && !isRelayLink(model, from)) {
    // The other instances may have it, even if they did not when asked before.
    const holding = { ...doc, deferred: doc.deferred.set(from, { version: msg.version, ref: msg.id }) }
    const asked = askLinksBeforeAnswering(link(base, from, doc.id), holding)
    if (asked) return [asked[0], [...commands, ...asked[1]]]
  }
  base = putDoc(base, doc)
  const [answered, answer] = answerRequest(base, doc, from, msg.version, msg.id)
  return [answered, [...commands, ...answer]]
}

export function syncAnswered(model: Model, from: ChannelId, msg: SyncResponse): Step {
  const doc = model.docs.get(msg.docId)
  if (!doc) return unchanged(model)
  // A response means the far end holds content, whatever the import below brings.
  const relayLink = isRelayLink(model, from)
  const next: DocModel = {
    ...doc,
    hasContent: true,
    awaiting: doc.awaiting.remove(from),
    synced: relayLink ? doc.synced : doc.synced.add(from),
  }
  const commands: Command[] = [
    { type: "import", docId: doc.id, data: msg.data, from, relayTo: relayTargets(model, next, from) },
    { type: "send-missing", to: from, docId: doc.id, theirVersion: msg.version },
  ]
  return answerOnceLinksAnswered(relayLink ? model : link(model, from, doc.id), next, commands)
}

export function docUnavailable(model: Model, from: ChannelId, docId: DocId): Step {
  const doc = model.docs.get(docId)
  if (!doc) return unchanged(model)
  const relay = model.channels.get(from)?.peer?.relay === true && !isRelayLink(model, from)
  // A relay keeps the document for us: it stays synced and gets what we have.
  const next: DocModel = {
    ...doc,
    awaiting: doc.awaiting.remove(from),
    synced: relay ? doc.synced.add(from) : doc.synced,
  }
  const commands: Command[] = []
  if (relay && doc.hasContent) {
    commands.push({ type: "send-missing", to: from, docId, theirVersion: null })
  }
  return answerOnceLinksAnswered(relay ? link(model, from, docId) : model, next, commands)
}

export function updateReceived(model: Model, from: ChannelId, msg: DocUpdate): Step {
  if (model.deleted.has(msg.docId)) return unchanged(model)
  let doc = model.docs.get(msg.docId)
  const commands: Command[] = []
  if (isRelayLink(model, from)) return linkUpdateReceived(model, from, msg, doc)
  if (!doc) {
    // Only a relay takes documents nobody asked it for.
    if (!model.self.relay) return unchanged(model)
    doc = newDoc(msg.docId, model.hasStorage, false)
    commands.push({ type: "emit", event: { type: "doc-created", docId: doc.id } })
    if (doc.storage === "reading") commands.push({ type: "load", docId: doc.id })
  }
  let base = model
  if (!doc.synced.has(from)) {
    doc = { ...doc, synced: doc.synced.add(from) }
    base = link(base, from, doc.id)
  }
  if (model.durable && !doc.save.unacked.has(from)) {
    doc = { ...doc, save: { ...doc.save, unacked: doc.save.unacked.add(from) } }
  }
  commands.push({
    type: "import",
    docId: doc.id,
    data: msg.data,
    from,
    relayTo: relayTargets(model, doc, from),
  })
  return [putDoc(base, doc), commands]
}

export function deleteReceived(model: Model, from: ChannelId, msg: DocDelete): Step {
  return purge(model, msg.docId, from)
}

/** A channel went away: it no longer syncs, is no longer awaited, and needs no answer. */
export function channelGone(model: Model, channelId: ChannelId, ids: Iterable<DocId>): Step {
  const docIds = [...ids]
  let docs = model.docs
  const commands: Command[] = []
  for (const docId of docIds) {
    const doc = docs.get(docId)
    if (!doc) continue
    const { save } = doc
    const gone: DocModel = {
      ...doc,
      synced: doc.synced.remove(channelId),
      awaiting: doc.awaiting.remove(channelId),
      deferred: doc.deferred.remove(channelId),
      save: { ...save, unacked: save.unacked.remove(channelId), acking: save.acking.remove(channelId) },
    }
    docs = docs.set(docId, scheduleEviction(model, gone, commands))
  }
  let [settled, events] = settleAll({ ...model, docs }, docIds)
  // A link that went away will not answer: requests held for it are answered with what is here.
  for (const docId of docIds) {
    const doc = settled.docs.get(docId)
    if (!doc || doc.deferred.size === 0) continue
    const [answered, answers] = answerOnceLinksAnswered(settled, doc, [])
    settled = answered
    events = [...events, ...answers]
  }
  return [settled, [...commands, ...events]]
}

/** A channel finished its handshake: ask it for every document the application opened. */
export function channelEstablished(model: Model, channelId: ChannelId): Step {
  let next = model
  const commands: Command[] = []
  // A new link to another instance (or the same one after an outage) syncs every document in use.
  const relayLink = isRelayLink(model, channelId) && model.self.relay
  for (const doc of model.docs.values()) {
    const inUse = doc.wanted || (relayLink && doc.hasContent)
    if (!inUse || doc.storage === "reading" || doc.status === "deleted") continue
    if (doc.synced.has(channelId) || doc.awaiting.has(channelId)) continue
    next = link(putDoc(next, { ...doc, awaiting: doc.awaiting.add(channelId) }), channelId, doc.id)
    commands.push({ type: "request-sync", to: [channelId], docId: doc.id })
  }
  return [next, commands]
}

// --- helpers ---

function answerRequest(
  model: Model,
  doc: DocModel,
  from: ChannelId,
  theirVersion: Uint8Array,
  ref: number | undefined,
): Step {
  if (!model.channels.has(from)) return unchanged(model)
  if (!doc.hasContent && !doc.wanted && !model.self.relay) {
    // It has nothing we keep for others: no subscription, just the answer.
    return [model, [unavailable(from, doc.id, ref)]]
  }
  const answer: Command = doc.hasContent
    ? { type: "answer-sync", to: from, docId: doc.id, theirVersion, ref }
    : unavailable(from, doc.id, ref)
  if (isRelayLink(model, from)) {
    // Nobody here uses it: it leaves memory after `evictAfter`, unless a client opens it meanwhile.
    const commands: Command[] = [answer]
    return [putDoc(model, scheduleEviction(model, doc, commands)), commands]
  }
  const next = { ...doc, synced: doc.synced.add(from) }
  return [link(putDoc(model, next), from, doc.id), [answer]]
}

function requestWhereMissing(model: Model, doc: DocModel): Step {
  const to: ChannelId[] = []
  for (const channel of model.channels.values()) {
    if (channel.peer === null) continue
    if (doc.synced.has(channel.id) || doc.awaiting.has(channel.id)) continue
    to.push(channel.id)
  }
  return requestFrom(model, doc, to)
}

/** Asks these channels for the document and awaits their answers. */
function requestFrom(model: Model, doc: DocModel, to: ChannelId[]): Step {
  if (to.length === 0) return finish(model, doc, [])
  let base = model
  for (const channelId of to) base = link(base, channelId, doc.id)
  return finish(base, { ...doc, awaiting: doc.awaiting.union(to) }, [
    { type: "request-sync", to, docId: doc.id },
  ])
}

function purge(model: Model, docId: DocId, from: ChannelId | null): Step {
  const doc = model.docs.get(docId)
  const commands: Command[] = []
  if (doc) {
    const to = established(model, doc.synced).filter((id) => id !== from && !isRelayLink(model, id))
    if (to.length > 0) commands.push({ type: "send", to, message: { type: "doc-delete", docId } })
    if (doc.save.scheduled) commands.push({ type: "cancel", id: saveTimer(docId) })
    commands.push({ type: "drop-doc", docId })
    commands.push({ type: "emit", event: { type: "doc-status", docId, status: "deleted" } })
  }
  // Every instance of a relay service hears of a deletion, whether it holds the document or not.
  const links = from !== null && isRelayLink(model, from) ? [] : relayLinks(model)
  if (links.length > 0) commands.push({ type: "send", to: links, message: { type: "doc-delete", docId } })
  if (doc || from === null || model.hasStorage) {
    if (model.hasStorage) commands.push({ type: "remove-stored", docId })
    commands.push({ type: "emit", event: { type: "doc-deleted", docId, remote: from !== null } })
  }
  return [{ ...model, docs: model.docs.remove(docId), deleted: model.deleted.add(docId) }, commands]
}

function relayTargets(model: Model, doc: DocModel, from: ChannelId): ChannelId[] {
  if (!model.self.relay) return []
  const clients = established(model, doc.synced).filter((id) => id !== from && !isRelayLink(model, id))
  if (isRelayLink(model, from)) return clients
  return [...clients, ...relayLinks(model).filter((id) => id !== from)]
}

/**
 * An update another instance of this service relayed. It goes to this instance's clients; a
 * document not in memory is only appended to storage, so every instance keeps every update
 * without loading every document. Links are never acknowledged: their clients were, by them.
 */
function linkUpdateReceived(model: Model, from: ChannelId, msg: DocUpdate, doc: DocModel | undefined): Step {
  if (!doc) {
    if (!model.hasStorage) return unchanged(model)
    return [model, [{ type: "store-update", docId: msg.docId, data: msg.data }]]
  }
  return [
    model,
    [{ type: "import", docId: doc.id, data: msg.data, from, relayTo: relayTargets(model, doc, from) }],
  ]
}

/** A client brought the document into this relay's memory: fetch what the other instances have. */
function askRelayLinks(model: Model, doc: DocModel): Step {
  const servesClient = doc.synced.some((id) => !isRelayLink(model, id))
  const to = servesClient ? relayLinks(model).filter((id) => !doc.awaiting.has(id)) : []
  return requestFrom(model, doc, to)
}

function unavailable(to: ChannelId, docId: DocId, ref: number | undefined): Command {
  const message = ref === undefined ? { docId } : { docId, ref }
  return { type: "send", to: [to], message: { type: "doc-unavailable", ...message } }
}
