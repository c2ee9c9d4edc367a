import { FLOOR, runCore } from "../core.js"
import { buildFixture } from "../fixture.js"
import type { SuiteOptions } from "../main.js"
import { buildRows, markdownSection, printTable } from "../report.js"
import { writeSection } from "../sections.js"
import { loroExtended } from "../systems/loro-extended.js"
import { tandem } from "../systems/tandem.js"

/** The document core beside loro-extended: sync to a fresh peer, fan-out through a hub. */
export async function runCoreSuite({ quick, full, log, machine, target }: SuiteOptions): Promise<void> {
  if (full) log("--full: loro-extended also runs the 10,000-update fan-out (minutes)")

  const started = performance.now()
  const fixture = buildFixture(100_000)
  log(`fixture: ${fixture.operations} operations, snapshot ${fixture.snapshot.byteLength} bytes`)

  const both = [tandem, loroExtended]
  const results = await runCore(
    fixture,
    {
      sync: { rounds: quick ? 3 : 9, systems: both },
      fanout: [
        { updates: 1_000, observers: 50, rounds: quick ? 2 : 5, warmup: true, systems: both, skipped: [] },
        {
          updates: 10_000,
          observers: 50,
          rounds: quick || full ? 1 : 3,
          // The 1,000-update size already warmed the same code.
          warmup: false,
          systems: full ? both : [tandem],
          skipped: full
            ? []
            : [
                {
                  system: loroExtended.name,
                  reason: "it needs minutes per round at this size; `pnpm bench --full` runs it once",
                },
              ],
        },
      ],
      timeoutMs: full ? 30 * 60_000 : 120_000,
    },
    log,
  )

  const names = [...both.map((system) => system.name), FLOOR]
  const rows = buildRows(results, names)
  log("")
  printTable(rows, names, log)
  writeSection(
    target,
    "core",
    markdownSection(rows, names, results, { machine, quick, full, date: new Date() }),
  )
  log(`\nwrote ${target} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
}
