import { cpuMs } from "./cpu.js"
import type { Window } from "./result.js"

/** Cuts a run into windows: call `mark` at each boundary with the deliveries so far. */
export class WindowRecorder {
  readonly windows: Window[] = []
  #at = performance.now()
  #cpu = cpuMs()
  #deliveries = 0

  mark(deliveries: number): void {
    const at = performance.now()
    const cpu = cpuMs()
    this.windows.push({
      deliveries: deliveries - this.#deliveries,
      ms: at - this.#at,
      cpuMs: cpu - this.#cpu,
    })
    this.#at = at
    this.#cpu = cpu
    this.#deliveries = deliveries
  }
}
