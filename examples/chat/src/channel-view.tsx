import { useBroadcast, useDoc, useRoom, useUsers } from "@tandem/react"
import { type FormEvent, useEffect, useRef, useState } from "react"
import { channelDoc } from "./channel-list.js"
import { MemberList } from "./member-list.js"
import { appendMessage, readMessages } from "./messages.js"
import type { ChatPresence } from "./presence.js"
import { TYPING_REPEAT_EVERY, typingLine } from "./typing.js"
import { useTyping } from "./use-typing.js"

interface Props {
  channel: string
  me: { userId: string; name: string }
  /** How many messages this user had read when the channel was opened. */
  readUpTo: number
  markRead: (channel: string, count: number) => void
}

/** One channel: its messages (a document), who is here and who is typing (a room). */
export function ChannelView({ channel, me, readUpTo, markRead }: Props) {
  const { doc, handle, status } = useDoc(channelDoc(channel))
  const room = useRoom<ChatPresence>(`chat:${channel}`, { name: me.name })
  const users = useUsers(room)
  const typing = useTyping(room)
  const sendTyping = useBroadcast(room, "typing")
  const sendStopped = useBroadcast(room, "stopped-typing")
  const messages = readMessages(doc)
  // Where the "new" line goes: what was unread when the channel was opened.
  const [firstUnread] = useState(readUpTo)
  const [draft, setDraft] = useState("")
  const lastTypingSent = useRef(0)
  const end = useRef<HTMLDivElement>(null)

  useEffect(() => markRead(channel, messages.length), [channel, messages.length, markRead])
  // biome-ignore lint/correctness/useExhaustiveDependencies: scrolls after each new message
  useEffect(() => {
    end.current?.scrollIntoView({ block: "end" }) // returns a promise in recent Chromium: not a clean-up
  }, [messages.length])

  const onDraft = (text: string) => {
    setDraft(text)
    const now = Date.now()
    if (text && now - lastTypingSent.current > TYPING_REPEAT_EVERY) {
      lastTypingSent.current = now
      sendTyping({ name: me.name })
    }
  }

  const onSend = (event: FormEvent) => {
    event.preventDefault()
    const text = draft.trim()
    if (!text) return
    const message = { id: crypto.randomUUID(), userId: me.userId, name: me.name, text, sentAt: Date.now() }
    handle.change((d) => appendMessage(d, message), { origin: "send" })
    setDraft("")
    lastTypingSent.current = 0
    sendStopped(null)
  }

  const newLineAt = messages.findIndex(
    (message, index) => index >= firstUnread && message.userId !== me.userId,
  )
  return (
    <>
      <section className="channel-view" aria-label={`# ${channel}`}>
        <header>
          <h1># {channel}</h1>
        </header>
        <ol className="messages">
          {status === "loading" && <li className="hint">Loading…</li>}
          {status !== "loading" && messages.length === 0 && (
            <li className="hint">No messages yet. Say hello!</li>
          )}
          {messages.map((message, index) => (
            <li key={message.id} className={message.userId === me.userId ? "message mine" : "message"}>
              {index === newLineAt && <div className="new-line">New</div>}
              <span className="author">{message.name}</span>
              <time>
                {new Date(message.sentAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
              </time>
              <p className="text">{message.text}</p>
            </li>
          ))}
        </ol>
        <div ref={end} />
        <p className="typing" aria-live="polite">
          {typingLine(typing)}
        </p>
        <form className="composer" onSubmit={onSend}>
          <input
            value={draft}
            onChange={(event) => onDraft(event.currentTarget.value)}
            placeholder={`Message # ${channel}`}
            aria-label="Message"
          />
          <button type="submit">Send</button>
        </form>
      </section>
      <MemberList users={users} />
    </>
  )
}
