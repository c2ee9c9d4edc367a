import { useDoc } from "@tandem/react"
import { readMessages, unreadCount } from "./messages.js"

export const CHANNELS = ["general", "random", "help"]

export const channelDoc = (channel: string) => `chat:${channel}`

function ChannelLink(props: {
  channel: string
  active: boolean
  readUpTo: number
  userId: string
  onOpen: (channel: string) => void
}) {
  const { channel, active, readUpTo, userId, onOpen } = props
  const { doc } = useDoc(channelDoc(channel))
  const unread = active ? 0 : unreadCount(readMessages(doc), readUpTo, userId)
  return (
    <li>
      <button
        type="button"
        className={active ? "channel active" : "channel"}
        data-channel={channel}
        onClick={() => onOpen(channel)}
      >
        # {channel}
        {unread > 0 && (
          <span className="unread" title={`${unread} unread`}>
            {unread}
          </span>
        )}
      </button>
    </li>
  )
}

export function ChannelList(props: {
  active: string
  read: Record<string, number>
  userId: string
  onOpen: (channel: string) => void
}) {
  return (
    <nav aria-label="Channels">
      <h2>Channels</h2>
      <ul className="channels">
        {CHANNELS.map((channel) => (
          <ChannelLink
            key={channel}
            channel={channel}
            active={channel === props.active}
            readUpTo={props.read[channel] ?? 0}
            userId={props.userId}
            onOpen={props.onOpen}
          />
        ))}
      </ul>
    </nav>
  )
}
