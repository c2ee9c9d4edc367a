import type { SuiteOptions } from "../main.js"

export async function runNetSuite({ log }: SuiteOptions): Promise<void> {
  log("not written yet")
}
