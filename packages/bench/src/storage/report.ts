import { type Machine, machineLine } from "../machine.js"
import { markdownTable, number, spread, type Table } from "../rooms/table.js"
import { sectionEnd, sectionStart } from "../sections.js"
import type { AmplificationResult } from "./amplification.js"
import type { DiskInfo } from "./disk-info.js"
import type { LoadResult } from "./load-compaction.js"
import type { StartupRound } from "./startup.js"

/** One way of appending, measured over rounds. */
export interface AppendRow {
  name: string
  /**
   * Per round: writes acknowledged per second, and per acknowledged write the fsyncs and the
   * storage writes (appends, and snapshots once updates outgrew the last one) it took.
   */
  perSecond: number[]
  fsyncsPerWrite: number[]
  storageWritesPer: number[]
}

export interface StorageResults {
  disk: DiskInfo
  tmp: string
  roundMs: number
  appends: AppendRow[]
  relay: AppendRow[]
  load: LoadResult
  amplification: AmplificationResult[]
  startup: { docs: number; small: StartupRound[]; full: StartupRound[] }
}

export interface StorageContext {
  machine: Machine
  quick: boolean
  date: Date
}

export function appendTable(results: StorageResults): Table {
  // A raw append is one storage write by definition; only a repo folds several into one, or adds snapshots.
  const row = (label: string, r: AppendRow, folds: boolean) => [
    label,
    spread(r.perSecond),
    spread(r.fsyncsPerWrite),
    folds ? spread(r.storageWritesPer) : "1",
  ]
  return {
    header: ["Acknowledged writes", "per second", "fsyncs per write", "storage writes per write"],
    rows: [
      ...results.appends.map((r) => row(`\`FsStorage.append\`: ${r.name}`, r, false)),
      ...results.relay.map((r) => row(`Relay repo: ${r.name}`, r, true)),
    ],
  }
}

export function loadTable(load: LoadResult): Table {
  const row = (what: string, rounds: LoadResult["beforeCompaction"]) => [
    what,
    spread(rounds.map((r) => r.readMs)),
    spread(rounds.map((r) => r.importMs)),
    spread(rounds.map((r) => r.readMs + r.importMs)),
  ]
  return {
    header: [
      `Loading a document of ${count(load.updates)} keystrokes`,
      "read (ms)",
      "import (ms)",
      "total (ms)",
    ],
    rows: [
      row(`${count(load.updates)} updates in a ${mib(load.logBytes)} log`, load.beforeCompaction),
      row(`after compaction: one ${kib(load.snapshotBytes)} snapshot`, load.afterCompaction),
    ],
  }
}

export function amplificationTable(runs: readonly AmplificationResult[]): Table {
  const cells = (f: (r: AmplificationResult) => string) => runs.map(f)
  const ratio = (bytes: number, r: AmplificationResult) => `${(bytes / r.payloadBytes).toFixed(2)}×`
  return {
    header: [
      "Write amplification",
      ...runs.map((r) => `${r.perWrite} keystroke${r.perWrite === 1 ? "" : "s"} per save`),
    ],
    rows: [
      ["Keystrokes", ...cells((r) => count(r.keystrokes))],
      ["Update payload: the keystrokes' Loro updates (bytes)", ...cells((r) => count(r.payloadBytes))],
      [
        "Storage appends / compactions",
        ...cells((r) => `${count(r.counts.appends)} / ${count(r.counts.compactions)}`),
      ],
      ["Written to files: records, headers, snapshots (bytes)", ...cells((r) => count(r.counts.fileBytes))],
      ["Written to files per payload byte", ...cells((r) => ratio(r.counts.fileBytes, r))],
      [
        "Pages the kernel wrote per payload byte",
        ...cells((r) => (r.diskBytes === undefined ? "not measured" : ratio(r.diskBytes, r))),
      ],
      ["fsyncs per keystroke", ...cells((r) => (r.fsyncs / r.keystrokes).toFixed(2))],
      ["On disk at the end (bytes)", ...cells((r) => count(r.finalBytes))],
    ],
  }
}

export function startupTable(startup: StorageResults["startup"]): Table {
  const row = (what: string, f: (r: StartupRound) => number) => [
    what,
    spread(startup.small.map(f)),
    spread(startup.full.map(f)),
  ]
  return {
    header: ["Relay start-up (ms)", "only the documents asked for", `${count(startup.docs)} documents`],
    rows: [
      row("`FsStorage.open`", (r) => r.openMs),
      row("… and `createServer` listening", (r) => r.listenMs),
      row("… and `/healthz` answered", (r) => r.readyMs),
      row("A new client's first document (connect, load, sync)", (r) => r.firstDocMs),
      row("Another document on that connection", (r) => r.nextDocMs),
    ],
  }
}

export function diskLine(results: StorageResults): string {
  const { disk, tmp } = results
  return (
    `Disk: \`${disk.device}\`, ${disk.fsType}, ${number(disk.sizeGiB)} GiB (\`df -T ${tmp}\`);` +
    ` a 64-byte write and fsync takes ${disk.fsyncMs.toFixed(2)} ms there (median of 200).`
  )
}

export function storageSection(results: StorageResults, context: StorageContext): string {
  const { machine, quick, date } = context
  const blank = [""]
  return [
    sectionStart("storage"),
    "## Storage: `@tandem/storage-fs`",
    "",
    `Measured ${date.toISOString().slice(0, 10)}${quick ? " with `--quick`" : ""} on ${machineLine(machine)}.`,
    diskLine(results),
    "",
    ...markdownTable(appendTable(results)),
    ...blank,
    ...markdownTable(loadTable(results.load)),
    ...blank,
    `Compaction of that document: exporting the snapshot took ${number(results.load.exportMs)} ms, \`FsStorage.compact\` writing it ${number(results.load.compactMs)} ms.`,
    ...blank,
    ...markdownTable(amplificationTable(results.amplification)),
    ...blank,
    ...markdownTable(startupTable(results.startup)),
    ...blank,
    "How it is measured:",
    "",
    `- **Appends**: closed loops, each writer waiting for its write to be durable before the next, for`,
    `  ${number(results.roundMs / 1000)} s a round after an untimed warm-up, in a fresh directory each round. \`FsStorage.append\` of a`,
    "  one-keystroke Loro update (about 90 bytes) with the default `groupCommitMs: 0`; fsyncs from",
    "  `storage.stats` (files and directories). The relay is a `Repo` as `@tandem/server` builds it",
    "  (`relay: true`, `FsStorage`, `saveDelay: 0`), with one in-memory bridge per client repo; each",
    "  client types a character and waits on `whenAcknowledged()` (the relay acknowledges once its",
    "  write is fsynced). Storage writes are the relay's appends and its snapshots (written once",
    "  appended updates outgrow the last snapshot; up to 3 fsyncs each); under 1 per write means the",
    "  repo folded keystrokes that arrived during a write into the next. A relay's acknowledgement",
    "  costs more than an append: the keystroke's trip through the relay repo, its save timer, and",
    "  on a small document a snapshot every few keystrokes. Ten clients share one",
    "  document, not a hundred: every client runs in this process and imports every other's",
    "  keystrokes, and Loro's import of an update concurrent with many others costs milliseconds,",
    "  so CPU, not storage, sets that rate.",
    "- **Load**: one-keystroke updates from a seeded typist, appended one record each (1,000 at a",
    "  time share an fsync: set-up). Read is `FsStorage.load`; import is `importBatch` into a fresh",
    "  `LoroDoc`, as a repo loads, checked against the original text. Then a snapshot is exported and",
    "  `compact` replaces the log with it, and the same loads run again. The files are in the page",
    "  cache (no cold read).",
    "- **Write amplification**: a `Repo` with `FsStorage` and its defaults types into one document.",
    "  The save window closes after every keystroke (someone typing: a 100 ms window rarely holds",
    "  two) or every ten (fast bursts): `repo.flush()` writes what is pending at once, compaction",
    "  included, as the window's timer would, without waiting for it. Payload is the Loro update of",
    "  each keystroke, what goes to peers; a save of ten keystrokes is one update, much smaller than",
    "  ten. Written to files is counted by a storage wrapper from",
    "  FsStorage's format (8 bytes per record, a header per new log, every snapshot file whole) and",
    "  checked against the files' sizes at the end. Pages the kernel wrote is `write_bytes` of",
    "  `/proc/self/io` (4 KiB per page dirtied; an fsynced append dirties its page again), without",
    "  the file system's journal.",
    `- **Start-up**: ${count(results.startup.docs)} documents of one small snapshot each; then \`FsStorage.open\` and`,
    "  `createServer({ port: 0, storage })` until `/healthz` answers, a client repo over WebSocket",
    "  (`ws`) asking for one stored document until it is `ready` with the right text, then for",
    "  another, each asked for once. Rounds alternate with a directory holding only the documents",
    "  asked for, after one untimed round on each; the relay and client are closed after each round.",
    "  Temp directories are removed afterwards.",
    sectionEnd("storage"),
  ].join("\n")
}

function count(value: number): string {
  return value.toLocaleString("en-US")
}

function kib(bytes: number): string {
  return `${number(bytes / 1024)} KiB`
}

function mib(bytes: number): string {
  return `${number(bytes / 2 ** 20)} MiB`
}
