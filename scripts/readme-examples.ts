import { readFile, rm, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"

export interface RunnableExample {
  code: string
  /** Runs the example and returns what it printed with `console.log`. */
  run(): Promise<string[]>
}

/**
 * The ```ts blocks of a README that import something (the runnable examples, not API sketches),
 * so tests can prove each README's example still runs as written.
 */
export async function runnableExamples(readmePath: string): Promise<RunnableExample[]> {
  const markdown = await readFile(readmePath, "utf8")
  const blocks = [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? "")
  return blocks
    .filter((code) => /^import .* from "@tandem\//m.test(code) && !code.includes("My"))
    .map((code, index) => ({
      code,
      run: async () => {
        const file = join(dirname(readmePath), `.readme-example-${process.pid}-${index}.ts`)
        await writeFile(file, code)
        const printed: string[] = []
        const original = console.log
        console.log = (...args: unknown[]) => printed.push(args.map(String).join(" "))
        try {
          await import(/* @vite-ignore */ file)
        } finally {
          console.log = original
          await rm(file, { force: true })
        }
        return printed
      },
    }))
}
