import { useConnectionState } from "@tandem/react"
import { useState } from "react"
import { ChannelList } from "./channel-list.js"
import { ChannelView } from "./channel-view.js"
import { useReadMarkers } from "./read-markers.js"

const connectionLabels = {
  connecting: "Connecting…",
  open: "Online",
  reconnecting: "Offline, reconnecting…",
  closed: "Offline",
} as const

export function App({ me, channel: first }: { me: { userId: string; name: string }; channel: string }) {
  const [channel, setChannel] = useState(first)
  const [read, markRead] = useReadMarkers(me.userId)
  const connection = useConnectionState()
  return (
    <div className="chat">
      <div className="sidebar">
        <ChannelList active={channel} read={read} userId={me.userId} onOpen={setChannel} />
        <p className="connection" data-state={connection}>
          <span className="dot" /> {connectionLabels[connection]}
        </p>
      </div>
      <ChannelView
        key={channel}
        channel={channel}
        me={me}
        readUpTo={read[channel] ?? 0}
        markRead={markRead}
      />
    </div>
  )
}
