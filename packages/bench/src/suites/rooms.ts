import type { SuiteOptions } from "../main.js"

export async function runRoomsSuite({ log }: SuiteOptions): Promise<void> {
  log("not written yet")
}
