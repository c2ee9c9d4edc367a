import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"
import { runnableExamples } from "../../../scripts/readme-examples.js"

it("the README's example runs as written", async () => {
  const [example] = await runnableExamples(fileURLToPath(new URL("../README.md", import.meta.url)))
  expect(await example?.run()).toEqual([
    "bob sees alice join, through another instance",
    "bob reads: hello from the east",
    "instances: 2",
  ])
})
