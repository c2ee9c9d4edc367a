import type { TrafficObserver } from "@tandem/adapter-websocket/server"
import type { ErrorCode, PeerMessage, Repo } from "@tandem/repo"
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client"

/** The relay's Prometheus metrics, in a registry of its own (several relays may share a process). */
export class RelayMetrics {
  readonly registry = new Registry()
  readonly connectionsTotal: Counter
  readonly messagesIn: Counter<"type">
  readonly messagesOut: Counter<"type">
  readonly bytesIn: Counter<"type">
  readonly bytesOut: Counter<"type">
  readonly errors: Counter<"code">
  readonly syncSeconds: Histogram
  readonly fanoutSeconds: Histogram<"type">

  constructor(source: { repo: () => Repo; connections: () => number }) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 })
    new Gauge({
      name: "tandem_connections",
      help: "Open WebSocket connections",
      registers,
      collect() {
        this.set(source.connections())
      },
    })
    new Gauge({
      name: "tandem_rooms",
      help: "Rooms the relay holds",
      registers,
      collect() {
        this.set(source.repo().getRooms().length)
      },
    })
    new Gauge({
      name: "tandem_room_members",
      help: "Members across all rooms",
      registers,
      collect() {
        this.set(
          source
            .repo()
            .getRooms()
            .reduce((sum, room) => sum + room.getMembers().length, 0),
        )
      },
    })
    new Gauge({
      name: "tandem_documents",
      help: "Documents in the relay's memory",
      registers,
      collect() {
        this.set(source.repo().getDocIds().length)
      },
    })
    this.connectionsTotal = new Counter({
      name: "tandem_connections_total",
      help: "Connections authenticated since start",
      registers,
    })
    const byType = ["type"] as const
    this.messagesIn = new Counter({
      name: "tandem_messages_received_total",
      help: "Messages received, by type",
      labelNames: byType,
      registers,
    })
    this.messagesOut = new Counter({
      name: "tandem_messages_sent_total",
      help: "Messages sent, by type (a relayed message counts once per recipient)",
      labelNames: byType,
      registers,
    })
    this.bytesIn = new Counter({
      name: "tandem_received_bytes_total",
      help: "Bytes received, by message type",
      labelNames: byType,
      registers,
    })
    this.bytesOut = new Counter({
      name: "tandem_sent_bytes_total",
      help: "Bytes sent, by message type",
      labelNames: byType,
      registers,
    })
    this.errors = new Counter({
      name: "tandem_errors_total",
      help: "Errors and refusals, by code (answers and closes)",
      labelNames: ["code"] as const,
      registers,
    })
    const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    this.syncSeconds = new Histogram({
      name: "tandem_sync_duration_seconds",
      help: "From a sync request arriving to its answer leaving",
      buckets,
      registers,
    })
    this.fanoutSeconds = new Histogram({
      name: "tandem_fanout_duration_seconds",
      help: "From an update, presence or broadcast arriving to its last copy leaving, by type",
      labelNames: byType,
      buckets,
      registers,
    })
  }

  /** What the WebSocket adapter reports. Error messages are counted by the gate, which sees their code. */
  get traffic(): TrafficObserver {
    return {
      received: (type, bytes) => {
        this.messagesIn.inc({ type })
        this.bytesIn.inc({ type }, bytes)
      },
      sent: (type, bytes, channels) => {
        this.messagesOut.inc({ type }, channels)
        this.bytesOut.inc({ type }, bytes)
      },
      refused: (code) => this.errors.inc({ code }),
    }
  }

  errorSent(message: PeerMessage): void {
    if (message.type === "error") this.errors.inc({ code: message.code })
  }

  refused(code: ErrorCode): void {
    this.errors.inc({ code })
  }
}
