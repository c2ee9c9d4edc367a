import { collectGarbage } from "../gc.js"
import type { SuiteOptions } from "../main.js"
import { jsStore, loroFloor, wasmStore } from "../rooms/loro-floor.js"
import type { PresencePlan } from "../rooms/plan.js"
import { type Column, roomsSection, roomsTable } from "../rooms/report.js"
import type { RoomResult } from "../rooms/result.js"
import { printTable } from "../rooms/table.js"
import { tandemRoom } from "../rooms/tandem-room.js"
import { writeSection } from "../sections.js"

const HZ = 10
/** Joining 200 peers takes seconds; draining a backlog may too. */
const TIMEOUT_MS = 120_000

/**
 * 200 peers in one room behind a hub, each updating its presence at 10 Hz: deliveries per
 * second, the share delivered and CPU per delivery, beside bare Loro ephemeral stores. A
 * 50-peer room shows the same work where one process keeps up.
 */
export async function runRoomsSuite({ quick, log, machine, target }: SuiteOptions): Promise<void> {
  const started = performance.now()
  const seconds = quick ? 3 : 10
  const room = (peers: number): PresencePlan => ({ peers, hz: HZ, seconds })
  const columns: Column[] = []

  const run = async (title: string, floor: boolean, measure: () => Promise<RoomResult> | RoomResult) => {
    await collectGarbage()
    const t = performance.now()
    const result = await measure()
    columns.push({ title, result, floor })
    log(
      `${title.padEnd(40)} ${result.deliveries.toLocaleString("en-US").padStart(10)} deliveries` +
        ` in ${(result.elapsedMs / 1000).toFixed(1)} s (${((performance.now() - t) / 1000).toFixed(1)} s with set-up)`,
    )
  }

  await run("Tandem, 200 peers", false, () => tandemRoom(room(200), TIMEOUT_MS))
  await run("Tandem, 50 peers", false, () => tandemRoom(room(50), TIMEOUT_MS))
  await run("Loro EphemeralStoreWasm, 200 peers", true, () => loroFloor(wasmStore, room(200)))
  // The JS class costs tens of µs per `apply` with 200 entries: a shorter run says as much.
  const jsSeconds = quick ? 0.1 : 0.5
  await run(`Loro EphemeralStore (JS), 200 peers, ${jsSeconds} s`, true, () =>
    loroFloor(jsStore, { ...room(200), seconds: jsSeconds }),
  )

  const table = roomsTable(columns)
  log("")
  printTable(table, log)
  writeSection(
    target,
    "rooms",
    roomsSection(columns, table, { machine, quick, date: new Date(), hz: HZ, seconds }),
  )
  log(`\nwrote ${target} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
}
