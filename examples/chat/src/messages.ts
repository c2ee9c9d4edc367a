import type { LoroDoc } from "loro-crdt"

/** One chat message, as stored in the channel's document (a `LoroList` of these). */
export type Message = {
  id: string
  userId: string
  name: string
  text: string
  /** When it was sent, by the sender's clock (for display only: order is the list's). */
  sentAt: number
}

export const MESSAGES = "messages"

export function readMessages(doc: LoroDoc): Message[] {
  return doc.getList(MESSAGES).toJSON() as Message[]
}

export function appendMessage(doc: LoroDoc, message: Message): void {
  doc.getList(MESSAGES).push(message)
}

/** Messages after the last one read, not counting the reader's own. */
export function unreadCount(messages: Message[], readUpTo: number, userId: string): number {
  return messages.slice(readUpTo).filter((message) => message.userId !== userId).length
}
