import { fileURLToPath } from "node:url"
import { FLOOR, runCore } from "./core.js"
import { buildFixture } from "./fixture.js"
import { describeMachine, machineLine } from "./machine.js"
import { buildRows, markdownSection, printTable, writeSection } from "./report.js"
import { loroExtended } from "./systems/loro-extended.js"
import { tandem } from "./systems/tandem.js"

const quick = process.argv.includes("--quick")
// loro-extended needs minutes per round for the full fan-out: only on request.
const full = process.argv.includes("--full")
const log = (line: string) => console.log(line)
const target = fileURLToPath(new URL("../../../BENCHMARKS.md", import.meta.url))

const machine = describeMachine()
log(machineLine(machine))
log(quick ? "quick run: fewer rounds" : "all rounds (--quick runs fewer)")
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
writeSection(target, markdownSection(rows, names, results, { machine, quick, full, date: new Date() }))
log(`\nwrote ${target} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
