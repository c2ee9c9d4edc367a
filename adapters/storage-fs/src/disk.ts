import { constants } from "node:fs"
import { type FileHandle, open, readFile, rename, rm } from "node:fs/promises"
import { dirname } from "node:path"
import { SharedRun } from "./shared-run.js"

/**
 * The few file operations the storage is built from. Each is durable when it resolves: it
 * fsyncs what it wrote, and `replace` also fsyncs the directory. It counts every fsync, for
 * `FsStorage.stats`.
 */
export class Disk {
  #fsyncs = 0
  readonly #directorySyncs = new Map<string, SharedRun>()

  get fsyncs(): number {
    return this.#fsyncs
  }

  /** The whole file, or `undefined` if there is no such file. */
  async read(path: string): Promise<Uint8Array | undefined> {
    try {
      return plain(await readFile(path))
    } catch (error) {
      if (isMissing(error)) return undefined
      throw error
    }
  }

  /** Up to `length` bytes from the start of the file, or `undefined` if there is no such file. */
  async readStart(path: string, length: number): Promise<Uint8Array | undefined> {
    let handle: FileHandle
    try {
      handle = await open(path, "r")
    } catch (error) {
      if (isMissing(error)) return undefined
      throw error
    }
    try {
      // A damaged length field may ask for gigabytes: never read past the end of the file.
      const { size } = await handle.stat()
      const buffer = Buffer.alloc(Math.min(length, size))
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, 0)
      return plain(buffer.subarray(0, bytesRead))
    } finally {
      await handle.close()
    }
  }

  /** Writes `data` at `offset`, creating the file if needed, then fsyncs the file. */
  async writeAt(path: string, offset: number, data: Uint8Array): Promise<void> {
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT)
    try {
      let written = 0
      while (written < data.byteLength) {
        const { bytesWritten } = await handle.write(
          data,
          written,
          data.byteLength - written,
          offset + written,
        )
        written += bytesWritten
      }
      await this.#sync(handle)
    } finally {
      await handle.close()
    }
  }

  /**
   * Gives `path` the content `data` atomically: written to `tempPath`, fsynced, renamed over
   * `path`, then the directory fsynced so the rename itself survives a crash.
   */
  async replace(path: string, tempPath: string, data: Uint8Array): Promise<void> {
    const handle = await open(tempPath, "w")
    try {
      await handle.writeFile(data)
      await this.#sync(handle)
    } finally {
      await handle.close()
    }
    await rename(tempPath, path)
    await this.syncDirectory(dirname(path))
  }

  /** Cuts the file to `length` bytes and fsyncs it. */
  async truncate(path: string, length: number): Promise<void> {
    const handle = await open(path, "r+")
    try {
      await handle.truncate(length)
      await this.#sync(handle)
    } finally {
      await handle.close()
    }
  }

  /** Deletes the file if there is one and says whether there was. The directory is not synced. */
  async remove(path: string): Promise<boolean> {
    try {
      await rm(path)
      return true
    } catch (error) {
      if (isMissing(error)) return false
      throw error
    }
  }

  /** Makes the names created, renamed or removed in a directory so far durable. */
  syncDirectory(path: string): Promise<void> {
    // Windows cannot open a directory to fsync it; NTFS journals changes to names itself.
    if (process.platform === "win32") return Promise.resolve()
    let run = this.#directorySyncs.get(path)
    if (!run) {
      run = new SharedRun(async () => {
        const handle = await open(path, "r")
        try {
          await this.#sync(handle)
        } finally {
          await handle.close()
        }
      })
      this.#directorySyncs.set(path, run)
    }
    return run.request()
  }

  async #sync(handle: FileHandle): Promise<void> {
    this.#fsyncs++
    await handle.sync()
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === "ENOENT"
}

// Callers get plain Uint8Arrays, as `StoredDoc` promises, not Buffers.
function plain(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}
