import type { SuiteOptions } from "../main.js"

export async function runStorageSuite({ log }: SuiteOptions): Promise<void> {
  log("not written yet")
}
