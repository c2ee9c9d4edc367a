import { tmpdir } from "node:os"
import { collectGarbage } from "../gc.js"
import type { SuiteOptions } from "../main.js"
import { printTable } from "../rooms/table.js"
import { writeSection } from "../sections.js"
import { amplificationRun } from "../storage/amplification.js"
import { describeDisk } from "../storage/disk-info.js"
import { loadCompactionRun } from "../storage/load-compaction.js"
import { type AppendShape, appendShapes, rawAppendRound } from "../storage/raw-appends.js"
import { relayRound, relayShapes } from "../storage/relay-acks.js"
import {
  type AppendRow,
  amplificationTable,
  appendTable,
  diskLine,
  loadTable,
  type StorageResults,
  startupTable,
  storageSection,
} from "../storage/report.js"
import { fillDocuments, type StartupRound, startupRound } from "../storage/startup.js"
import { withTempDir } from "../storage/temp-dir.js"
import { typingUpdates } from "../storage/typing.js"

/** A round's writes acknowledged, over how long, with the storage writes and fsyncs they took. */
interface WriteRound {
  acknowledged: number
  elapsedMs: number
  storageWrites: number
  fsyncs: number
}

/**
 * `@tandem/storage-fs`: acknowledged appends with group commit (raw and through a relay repo),
 * loading a long log before and after compaction, write amplification through a repo, and a
 * relay starting on a directory of 10,000 documents.
 */
export async function runStorageSuite({ quick, log, machine, target }: SuiteOptions): Promise<void> {
  const started = performance.now()
  const tmp = tmpdir()
  const disk = await describeDisk(tmp)
  const rounds = quick ? 1 : 3
  const roundMs = quick ? 500 : 2000
  const warmupMs = quick ? 200 : 500
  log(`disk: ${disk.device} ${disk.fsType}, fsync of a small write ${disk.fsyncMs.toFixed(2)} ms`)

  const { updates: payloads } = typingUpdates(1000)
  const appends = await alternate(
    "append",
    appendShapes,
    rounds,
    async (shape, ms) => {
      const r = await rawAppendRound(shape, payloads, ms)
      return { acknowledged: r.appends, elapsedMs: r.elapsedMs, storageWrites: r.appends, fsyncs: r.fsyncs }
    },
    roundMs,
    warmupMs,
    log,
  )
  const relay = await alternate(
    "relay",
    relayShapes,
    rounds,
    async (shape, ms) => {
      const r = await relayRound(shape, ms)
      return {
        acknowledged: r.acknowledged,
        elapsedMs: r.elapsedMs,
        storageWrites: r.writes,
        fsyncs: r.fsyncs,
      }
    },
    roundMs,
    warmupMs,
    log,
  )

  await collectGarbage()
  const updates = quick ? 20_000 : 100_000
  const load = await loadCompactionRun(updates, rounds)
  log(`load: ${updates} updates, before and after compaction, ${rounds} round(s) each`)

  const keystrokes = quick ? 2_000 : 10_000
  const amplification = []
  for (const perWrite of [1, 10]) {
    await collectGarbage()
    amplification.push(await amplificationRun(keystrokes, perWrite))
    log(`write amplification: ${keystrokes} keystrokes, ${perWrite} per save`)
  }

  const docs = 10_000
  const startup = await startupRounds(docs, quick ? 2 : 5, log)

  const results: StorageResults = { disk, tmp, roundMs, appends, relay, load, amplification, startup }
  for (const table of [
    appendTable(results),
    loadTable(load),
    amplificationTable(amplification),
    startupTable(startup),
  ]) {
    log("")
    printTable(table, log)
  }
  log(`\n${diskLine(results)}`)
  writeSection(target, "storage", storageSection(results, { machine, quick, date: new Date() }))
  log(`\nwrote ${target} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
}

/**
 * Runs each shape once untimed, then rounds shape after shape (A, B, C, A, B, C, ...) so drift
 * in the machine's speed, or another process using the disk, hits them alike.
 */
async function alternate(
  label: string,
  shapes: readonly AppendShape[],
  rounds: number,
  round: (shape: AppendShape, ms: number) => Promise<WriteRound>,
  roundMs: number,
  warmupMs: number,
  log: (line: string) => void,
): Promise<AppendRow[]> {
  const rows: AppendRow[] = shapes.map((shape) => ({
    name: shape.name,
    perSecond: [],
    fsyncsPerWrite: [],
    storageWritesPer: [],
  }))
  for (let r = 0; r <= rounds; r++) {
    for (const [i, shape] of shapes.entries()) {
      await collectGarbage()
      const result = await round(shape, r === 0 ? warmupMs : roundMs)
      const perSecond = (result.acknowledged / result.elapsedMs) * 1000
      log(
        `${label}  ${(r === 0 ? "warm-up" : `${r}/${rounds}`).padStart(7)}  ${shape.name.padEnd(28)}` +
          ` ${Math.round(perSecond).toLocaleString("en-US").padStart(9)}/s, ${(result.fsyncs / result.acknowledged).toFixed(3)} fsyncs per write`,
      )
      if (r === 0) continue
      const row = rows[i] as AppendRow
      row.perSecond.push(perSecond)
      row.fsyncsPerWrite.push(result.fsyncs / result.acknowledged)
      row.storageWritesPer.push(result.storageWrites / result.acknowledged)
    }
  }
  return rows
}

/**
 * Start-up on a directory of `docs` documents, and on one holding only the documents the rounds
 * ask for: the same requests, so any difference is the directory's size. Rounds alternate.
 */
async function startupRounds(
  docs: number,
  rounds: number,
  log: (line: string) => void,
): Promise<{ docs: number; small: StartupRound[]; full: StartupRound[] }> {
  // Round r asks for two documents no earlier round asked for, spread over the directory; the
  // untimed first round (which also loads the server's code) asks for the first two.
  const step = Math.floor(docs / (rounds * 2 + 2))
  const asked = (r: number): [number, number] => [(r * 2 + 1) * step, (r * 2 + 2) * step]
  const all = Array.from({ length: docs }, (_, i) => i)
  return withTempDir(async (smallDir) =>
    withTempDir(async (fullDir) => {
      const filling = performance.now()
      await fillDocuments(fullDir, all)
      log(`start-up: wrote ${docs} documents in ${((performance.now() - filling) / 1000).toFixed(1)} s`)
      await fillDocuments(smallDir, [0, 1, ...Array.from({ length: rounds }, (_, r) => asked(r)).flat()])
      await startupRound(fullDir, [0, 1])
      await startupRound(smallDir, [0, 1])
      const small: StartupRound[] = []
      const full: StartupRound[] = []
      for (let r = 0; r < rounds; r++) {
        await collectGarbage()
        full.push(await startupRound(fullDir, asked(r)))
        await collectGarbage()
        small.push(await startupRound(smallDir, asked(r)))
      }
      log(`start-up: ${rounds} round(s) on each directory`)
      return { docs, small, full }
    }),
  )
}
