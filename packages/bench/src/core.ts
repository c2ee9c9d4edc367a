import { LoroDoc, type VersionVector } from "loro-crdt"
import { type Fixture, letter, seeded, TEXT } from "./fixture.js"
import { collectGarbage } from "./gc.js"
import type { System } from "./systems/system.js"
import { waitFor } from "./wait.js"

const DOC = "bench"

export interface FanoutPlan {
  updates: number
  observers: number
  rounds: number
  /** One untimed round per system first, to warm the JIT. */
  warmup: boolean
  systems: readonly System[]
  /** Systems left out of this size, and why. */
  skipped: readonly { system: string; reason: string }[]
}

export interface CorePlan {
  sync: { rounds: number; systems: readonly System[] }
  fanout: readonly FanoutPlan[]
  /**
   * How long one round may take before the system is reported as not completing. Checked only
   * when the system yields: loro-extended's bridge delivers in microtasks and never does mid-run.
   */
  timeoutMs: number
}

/** One system's samples (ms) in one scenario, or why there are none. */
export interface Samples {
  system: string
  samples: number[]
  error?: string
  skipped?: string
}

export interface FanoutResult {
  updates: number
  observers: number
  results: Samples[]
}

export interface CoreResults {
  fixture: { operations: number; bytes: number }
  sync: Samples[]
  fanout: FanoutResult[]
}

/** Bare Loro doing a scenario's document work with no repo and no network: the floor. */
export const FLOOR = "Loro alone"

/** Something that runs a round of a scenario and says how many ms it took. */
interface Contestant {
  name: string
  round: () => Promise<number>
}

type Log = (line: string) => void

export async function runCore(fixture: Fixture, plan: CorePlan, log: Log): Promise<CoreResults> {
  const { timeoutMs } = plan
  const sync = await alternate(
    "sync",
    [
      ...plan.sync.systems.map((system) => ({
        name: system.name,
        round: () => syncRound(system, fixture, timeoutMs),
      })),
      { name: FLOOR, round: async () => syncFloor(fixture) },
    ],
    plan.sync.rounds,
    true,
    log,
  )
  const fanout: FanoutResult[] = []
  for (const size of plan.fanout) {
    const { updates, observers } = size
    const results = await alternate(
      `fan-out ${updates}×${observers}`,
      [
        ...size.systems.map((system) => ({
          name: system.name,
          round: () => fanoutRound(system, updates, observers, timeoutMs),
        })),
        { name: FLOOR, round: async () => fanoutFloor(updates, observers + 1) },
      ],
      size.rounds,
      size.warmup,
      log,
    )
    for (const { system, reason } of size.skipped) results.push({ system, samples: [], skipped: reason })
    fanout.push({ updates, observers, results })
  }
  return { fixture: { operations: fixture.operations, bytes: fixture.snapshot.byteLength }, sync, fanout }
}

/**
 * Runs rounds contestant after contestant (A, B, A, B, ...) so drift in the machine's speed hits
 * all alike. One that fails is dropped from later rounds, with the reason kept.
 */
async function alternate(
  scenario: string,
  contestants: readonly Contestant[],
  rounds: number,
  warmup: boolean,
  log: Log,
): Promise<Samples[]> {
  const results = contestants.map((c): Samples => ({ system: c.name, samples: [] }))
  for (let r = warmup ? 0 : 1; r <= rounds; r++) {
    for (const [i, contestant] of contestants.entries()) {
      const result = results[i] as Samples
      if (result.error !== undefined) continue
      await collectGarbage()
      const label = r === 0 ? "warm-up" : `${r}/${rounds}`
      const who = `${scenario}  ${label.padStart(7)}  ${contestant.name.padEnd(14)}`
      try {
        const ms = await contestant.round()
        if (r > 0) result.samples.push(ms)
        log(`${who} ${ms.toFixed(1).padStart(9)} ms`)
      } catch (error) {
        result.error = error instanceof Error ? error.message : String(error)
        log(`${who} failed: ${result.error}`)
      }
    }
  }
  return results
}

/** A fresh peer joins the bridge of a repo holding the fixture; ms until it holds all of it. */
async function syncRound(system: System, fixture: Fixture, timeoutMs: number): Promise<number> {
  const source = await system.source(DOC, fixture.snapshot)
  try {
    verify(source.doc, fixture.version, fixture.text, `${system.name} source`)
    const started = performance.now()
    const doc = source.join()
    const text = doc.getText(TEXT)
    const length = fixture.text.length
    await waitFor(
      () => text.length === length,
      timeoutMs,
      () => `${system.name}: the fresh peer has ${text.length} of ${length} characters`,
    )
    const elapsed = performance.now() - started
    verify(doc, fixture.version, fixture.text, `${system.name} fresh peer`)
    return elapsed
  } finally {
    await source.close()
  }
}

/**
 * The writer makes `updates` one-character commits as fast as it can; ms until every observer,
 * reached only through the hub, holds all of them.
 */
async function fanoutRound(
  system: System,
  updates: number,
  observers: number,
  timeoutMs: number,
): Promise<number> {
  const hub = await system.hub(DOC, observers)
  try {
    const writer = hub.writer.getText(TEXT)
    const texts = hub.observers.map((doc) => doc.getText(TEXT))
    // One edit first, delivered everywhere, so every subscription exists before the clock starts.
    writer.insert(0, "#")
    hub.writer.commit()
    await waitFor(
      () => texts.every((text) => text.length === 1),
      timeoutMs,
      () =>
        `${system.name}: ${texts.filter((text) => text.length === 1).length} of ${observers} observers got the first edit`,
    )

    const target = 1 + updates
    const random = seeded(7)
    const started = performance.now()
    for (let i = 0; i < updates; i++) {
      writer.insert(Math.floor(random() * (writer.length + 1)), letter(random))
      hub.writer.commit()
    }
    // Observers before `complete` are done and are not polled again.
    let complete = 0
    await waitFor(
      () => {
        while (complete < texts.length && texts[complete]?.length === target) complete++
        return complete === texts.length
      },
      timeoutMs,
      () => {
        const delivered = texts.reduce((sum, text) => sum + text.length - 1, 0)
        return `${system.name}: observers hold ${delivered} of ${updates * observers} updates`
      },
    )
    const elapsed = performance.now() - started
    const expected = writer.toString()
    const version = hub.writer.oplogVersion()
    for (const [i, doc] of hub.observers.entries())
      verify(doc, version, expected, `${system.name} observer ${i}`)
    return elapsed
  } finally {
    await hub.close()
  }
}

/** The same bytes through bare Loro: export a snapshot from a loaded document, import it. */
function syncFloor(fixture: Fixture): number {
  const source = new LoroDoc()
  source.import(fixture.snapshot)
  verify(source, fixture.version, fixture.text, "bare Loro source")
  const started = performance.now()
  const doc = new LoroDoc()
  doc.import(source.export({ mode: "snapshot" }))
  if (doc.getText(TEXT).length !== fixture.text.length) throw new Error("bare Loro: the copy is incomplete")
  const elapsed = performance.now() - started
  verify(doc, fixture.version, fixture.text, "bare Loro copy")
  return elapsed
}

/** The writer's commits, then each update imported on its own by every receiving document. */
function fanoutFloor(updates: number, receivers: number): number {
  const writer = new LoroDoc()
  const text = writer.getText(TEXT)
  text.insert(0, "#")
  writer.commit()
  const first = writer.export({ mode: "update" })
  const docs = Array.from({ length: receivers }, () => {
    const doc = new LoroDoc()
    doc.import(first)
    return doc
  })
  const bytes: Uint8Array[] = []
  const unsubscribe = writer.subscribeLocalUpdates((update) => bytes.push(update))
  const random = seeded(7)
  const started = performance.now()
  for (let i = 0; i < updates; i++) {
    text.insert(Math.floor(random() * (text.length + 1)), letter(random))
    writer.commit()
  }
  // As a relay delivers: each update to every receiver in turn.
  for (const update of bytes) for (const doc of docs) doc.import(update)
  const elapsed = performance.now() - started
  unsubscribe()
  const version = writer.oplogVersion()
  const expected = text.toString()
  for (const [i, doc] of docs.entries()) verify(doc, version, expected, `bare Loro receiver ${i}`)
  return elapsed
}

/** The peer holds exactly what it should: the same operations and the same text. */
function verify(doc: LoroDoc, version: VersionVector, text: string, who: string): void {
  if (doc.oplogVersion().compare(version) !== 0) throw new Error(`${who}: version differs from the original`)
  if (doc.getText(TEXT).toString() !== text) throw new Error(`${who}: text differs from the original`)
}
