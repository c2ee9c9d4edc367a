import { fileURLToPath } from "node:url"
import { describeMachine, type Machine, machineLine } from "./machine.js"
import { runClusterSuite } from "./suites/cluster.js"
import { runCoreSuite } from "./suites/core.js"
import { runNetSuite } from "./suites/net.js"
import { runRoomsSuite } from "./suites/rooms.js"
import { runStorageSuite } from "./suites/storage.js"

export interface SuiteOptions {
  quick: boolean
  full: boolean
  log: (line: string) => void
  machine: Machine
  /** BENCHMARKS.md: each suite rewrites its own section of it. */
  target: string
}

/** Every suite, in the order `pnpm bench` runs them; `pnpm bench <name>` runs one. */
const suites: Record<string, (options: SuiteOptions) => Promise<void>> = {
  core: runCoreSuite,
  rooms: runRoomsSuite,
  storage: runStorageSuite,
  net: runNetSuite,
  cluster: runClusterSuite,
}

const args = process.argv.slice(2)
const quick = args.includes("--quick")
// Runs that take minutes (loro-extended's full fan-out) only on request.
const full = args.includes("--full")
// Options that take a value (`net --soak 30m`): the value is not a suite name.
const valued = new Set(["--soak"])
const names = args.filter((arg, i) => !arg.startsWith("--") && !valued.has(args[i - 1] ?? ""))
const unknown = names.filter((name) => !(name in suites))
if (unknown.length > 0) {
  console.error(`unknown suite ${unknown.join(", ")}; suites: ${Object.keys(suites).join(", ")}`)
  process.exit(1)
}
const log = (line: string) => console.log(line)
const machine = describeMachine()
const target = fileURLToPath(new URL("../../../BENCHMARKS.md", import.meta.url))
log(machineLine(machine))
log(quick ? "quick run: fewer rounds" : "all rounds (--quick runs fewer)")
for (const name of names.length > 0 ? names : Object.keys(suites)) {
  log(`\n== ${name}`)
  await suites[name]?.({ quick, full, log, machine, target })
}
