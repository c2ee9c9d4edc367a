import { type Machine, machineLine } from "../machine.js"
import { sectionEnd, sectionStart } from "../sections.js"
import type { RoomResult } from "./result.js"
import { markdownTable, number, percent, spread, type Table } from "./table.js"

/** One column of the table: a system and what it ran. */
export interface Column {
  title: string
  result: RoomResult
  /** The floor runs as fast as it can, not on the schedule: no latency, no joins. */
  floor: boolean
}

export interface RoomsContext {
  machine: Machine
  quick: boolean
  date: Date
  hz: number
  seconds: number
}

export function roomsTable(columns: readonly Column[]): Table {
  const cells = (f: (column: Column) => string) => columns.map(f)
  const windowRates = (r: RoomResult) => r.windows.map((w) => (w.deliveries / w.ms) * 1000)
  const windowCpu = (r: RoomResult) =>
    r.windows.filter((w) => w.deliveries > 0).map((w) => (w.cpuMs * 1000) / w.deliveries)
  return {
    header: ["", ...columns.map((c) => c.title)],
    rows: [
      ["Presence updates made", ...cells((c) => number(c.result.updates))],
      [
        "Updates sent on (after each sender's 50 ms throttle)",
        ...cells((c) => number(c.result.deliveries / (c.result.peers - 1))),
      ],
      [
        "Delivered, of every update to every other peer",
        ...cells((c) => percent(c.result.deliveries / c.result.expectedDeliveries)),
      ],
      ["Every peer ends with every other's last update", ...cells((c) => (c.result.complete ? "yes" : "no"))],
      ["Deliveries per second, per 1 s window", ...cells((c) => spread(windowRates(c.result)))],
      [
        "CPU per delivered update, whole run (µs)",
        ...cells((c) => number((c.result.cpuMs * 1000) / c.result.deliveries)),
      ],
      ["CPU per delivered update, per window (µs)", ...cells((c) => spread(windowCpu(c.result)))],
      ["CPU used, in cores", ...cells((c) => (c.result.cpuMs / c.result.elapsedMs).toFixed(2))],
      [
        "Latency from due to delivered, p50 / p99 (ms)",
        ...cells((c) =>
          c.floor ? "—" : `${number(c.result.latencyMs.p50)} / ${number(c.result.latencyMs.p99)}`,
        ),
      ],
      [
        "Joining: until every peer lists every other (ms)",
        ...cells((c) => (c.floor ? "—" : number(c.result.joinMs))),
      ],
    ],
  }
}

export function roomsSection(columns: readonly Column[], table: Table, context: RoomsContext): string {
  const { machine, quick, date, hz, seconds } = context
  return [
    sectionStart("rooms"),
    "## Rooms: presence through a hub",
    "",
    `Measured ${date.toISOString().slice(0, 10)}${quick ? " with `--quick`" : ""} on ${machineLine(machine)}.`,
    `One run per column; ranges are over the run's windows (1 s of the schedule, or a tenth of a floor run). Each peer updates at ${hz} Hz for ${seconds} s.`,
    "",
    ...markdownTable(table),
    "",
    ...notes(columns),
    "How it is measured:",
    "",
    "- **Tandem**: a hub `Repo` with `relay: true` and one in-memory `Bridge` per peer; each peer a",
    "  `Repo` on its own bridge, all in one room (defaults: keepalive on, 50 ms presence throttle).",
    `  Each peer calls \`setPresence({ x, y, name })\` ${hz} times a second on a fixed schedule, the`,
    "  peers' ticks spread evenly over each period; a tick that falls due while the process is busy",
    "  runs late, as in an application. A delivery is one `member-updated` event at one peer; the run",
    "  ends once every peer holds every other peer's last update. Latency runs from when an update",
    "  was due to when a peer had it, so it includes the tick's own lateness.",
    "- **Joining** counts from the first `joinRoom` until every peer has had a `member-joined` for",
    "  every other. Each such event makes the peer's repo call `getMembers()` twice (for the repo's",
    "  own `room-member-joined` event and to group members by user), and each call reads every",
    "  member's presence out of the WebAssembly store: a peer's join work grows with the square of",
    "  the room's size, and 200 peers in one process pay it 200 times.",
    "- **Everything runs in one Node process** (one JavaScript thread): the CPU per delivered update",
    "  is `process.cpuUsage()` (user + system, every thread, garbage collection included) over the",
    "  run, divided by deliveries, and pays for the hub's forwarding *and* every peer's own work",
    "  (sending, receiving, events). Spread over real clients, each peer's share runs on its own machine.",
    "- **Loro floor**: the same updates through bare Loro ephemeral stores, one per peer, no repo, no",
    "  network, no events, as fast as they go: `set` on the writer's store, `encode(key)`, then",
    "  `apply` on every other peer's store; every store holds every peer first. `EphemeralStoreWasm`",
    "  was the store Tandem kept presence in (it now keeps plain maps: network section); Loro's JS `EphemeralStore` wraps it and after every",
    "  `set` and `apply` checks whether the store is empty, which walks every entry, so it runs",
    "  fewer updates here. Stores are destroyed and freed after the run; every repo is shut down.",
    sectionEnd("rooms"),
  ].join("\n")
}

/** Why a run delivered less than everything, in words. */
function notes(columns: readonly Column[]): string[] {
  const short = columns.filter((c) => !c.floor && c.result.deliveries < c.result.expectedDeliveries)
  if (short.length === 0) return []
  return [
    ...short.map(
      (c) =>
        `* ${c.title}: ${percent(c.result.deliveries / c.result.expectedDeliveries)} delivered. The process is` +
        ` CPU-bound (${(c.result.cpuMs / c.result.elapsedMs).toFixed(2)} cores busy): ticks run late and bunch up, and a` +
        " peer's presence throttle (50 ms) folds an update made within 50 ms of its last one into the next" +
        " message. Nothing is lost: the latest presence always goes out, and every peer ends with every" +
        " other's last update. The offered load is every update to every other peer; what one process" +
        " could carry is the deliveries per second.",
    ),
    "",
  ]
}
