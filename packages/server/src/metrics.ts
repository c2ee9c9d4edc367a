import type { TrafficObserver } from "@tandem/adapter-websocket/server"
import type { ErrorCode, PeerMessage, Repo } from "@tandem/repo"
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client"

/** The relay's Prometheus metrics, in a registry of its own (several relays may share a process). */
export class RelayMetrics {
  readonly registry = new Registry()
  readonly connectionsTotal: Counter
  readonly #messagesIn = new Tally()
  readonly #messagesOut = new Tally()
  readonly #bytesIn = new Tally()
  readonly #bytesOut = new Tally()
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
    const countByType = (name: string, help: string, tally: Tally) =>
      new Counter({
        name,
        help,
        labelNames: ["type"] as const,
        registers,
        collect() {
          tally.drainInto(this)
        },
      })
    countByType("tandem_messages_received_total", "Messages received, by type", this.#messagesIn)
    countByType(
      "tandem_messages_sent_total",
      "Messages sent, by type (a relayed message counts once per recipient)",
      this.#messagesOut,
    )
    countByType("tandem_received_bytes_total", "Bytes received, by message type", this.#bytesIn)
    countByType("tandem_sent_bytes_total", "Bytes sent, by message type", this.#bytesOut)
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
      labelNames: ["type"] as const,
      buckets,
      registers,
    })
  }

  /** What the WebSocket adapter reports. Error messages are counted by the gate, which sees their code. */
  get traffic(): TrafficObserver {
    return {
      received: (type, bytes) => {
        this.#messagesIn.add(type, 1)
        this.#bytesIn.add(type, bytes)
      },
      sent: (type, bytes, channels) => {
        this.#messagesOut.add(type, channels)
        this.#bytesOut.add(type, bytes)
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

/**
 * Counts by message type in plain numbers, handed to a prom-client counter when it is scraped. The
 * relay counts every message it sends to every recipient, and a labelled `inc` hashes its labels
 * each time: measured, a few percent of the relay's busy time in an edit fan-out.
 */
class Tally {
  readonly #counts = new Map<string, number>()

  add(type: string, n: number): void {
    this.#counts.set(type, (this.#counts.get(type) ?? 0) + n)
  }

  drainInto(counter: Counter<"type">): void {
    for (const [type, n] of this.#counts) counter.inc({ type }, n)
    this.#counts.clear()
  }
}
