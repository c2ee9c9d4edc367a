import { type FileHandle, open, readFile, realpath, rm } from "node:fs/promises"
import { join } from "node:path"
import { getLogger } from "@logtape/logtape"
import { TandemError } from "@tandem/repo"

const log = getLogger(["tandem", "storage-fs"])

export const LOCK_FILE = "LOCK"

/** Directories held by an `FsStorage` of this process. */
const lockedHere = new Set<string>()

/**
 * Keeps a second `FsStorage`, in this process or another, out of a directory: the lock file is
 * created exclusively and holds the owner's pid. A lock whose process is gone is stale (the owner
 * crashed) and is taken over.
 */
export class DirectoryLock {
  readonly #dir: string
  readonly #path: string
  #released = false

  private constructor(dir: string, path: string) {
    this.#dir = dir
    this.#path = path
  }

  static async acquire(dir: string): Promise<DirectoryLock> {
    const real = await realpath(dir)
    // Checked here, not through the file: two opens racing in one process both see our pid.
    if (lockedHere.has(real)) {
      throw new TandemError(
        "STORAGE_FAILED",
        `${dir} is already open by another FsStorage in this process; close that one first, or share it`,
      )
    }
    lockedHere.add(real)
    const path = join(real, LOCK_FILE)
    try {
      await takeLockFile(dir, path)
    } catch (error) {
      lockedHere.delete(real)
      throw error
    }
    return new DirectoryLock(real, path)
  }

  /** Deletes the lock file if it is still ours. Safe to call more than once. */
  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    lockedHere.delete(this.#dir)
    if ((await readOwner(this.#path)) === process.pid) await rm(this.#path, { force: true })
  }
}

async function takeLockFile(dir: string, path: string): Promise<void> {
  // A round either creates the lock file, finds it held, or removes a stale one and goes again.
  for (let round = 0; round < 3; round++) {
    if (await create(path)) return
    const pid = await readOwner(path)
    if (pid === "gone") continue
    if (pid === undefined) {
      throw new TandemError(
        "STORAGE_FAILED",
        `${dir} is locked by ${path}, which names no process; if no FsStorage uses ${dir}, delete that file`,
      )
    }
    // Our own pid is stale: nothing here holds the directory, so a crashed owner had this pid
    // before a restart (pid 1 in a container, for one).
    if (pid !== process.pid && isRunning(pid)) {
      throw new TandemError(
        "STORAGE_FAILED",
        `${dir} is in use by process ${pid}; stop it or use another directory (if process ${pid} is not a Tandem storage, delete ${path})`,
      )
    }
    log.warn("taking over the lock of {dir} from process {pid}, which is no longer running", { dir, pid })
    await rm(path, { force: true })
  }
  throw new TandemError("STORAGE_FAILED", `could not lock ${dir}: other processes keep taking ${path}`)
}

async function create(path: string): Promise<boolean> {
  let handle: FileHandle
  try {
    handle = await open(path, "wx")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false
    throw error
  }
  try {
    await handle.writeFile(`${process.pid}\n`)
  } catch (error) {
    await handle.close()
    await rm(path, { force: true })
    throw error
  }
  await handle.close()
  return true
}

/** The pid in the lock file, `undefined` if it holds none, `"gone"` if there is no lock file. */
async function readOwner(path: string): Promise<number | undefined | "gone"> {
  let text: string
  try {
    text = await readFile(path, "utf8")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone"
    throw error
  }
  const pid = Number(text.trim())
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code !== "ESRCH"
  }
}
