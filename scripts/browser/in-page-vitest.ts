// What a test page bundles in place of "vitest": enough of its API to run suites written for it
// (the conformance suites of @tandem/repo/testing) inside a browser, with vitest's own matchers.
import { chai, type ExpectStatic, JestAsymmetricMatchers, JestChaiExpect, JestExtend } from "@vitest/expect"

chai.use(JestExtend)
chai.use(JestChaiExpect)
chai.use(JestAsymmetricMatchers)

type Body = () => unknown

interface Scope {
  name: string
  beforeEach: Body[]
  afterEach: Body[]
}

interface Collected {
  name: string
  body: Body
  scopes: Scope[]
}

export interface PageTestResult {
  name: string
  /** The failure, with its stack; absent when the test passed. */
  error?: string
}

const collected: Collected[] = []
const scopes: Scope[] = [{ name: "", beforeEach: [], afterEach: [] }]
const timeout = 15_000

/** vitest's matchers on chai, as vitest itself sets them up (without snapshots or polling). */
export const expect = ((value: unknown, message?: string) =>
  chai.expect(value, message)) as unknown as ExpectStatic

export function describe(name: string, body: () => void): void {
  scopes.push({ name, beforeEach: [], afterEach: [] })
  try {
    body()
  } finally {
    scopes.pop()
  }
}

export function it(name: string, body: Body): void {
  const path = scopes.map((scope) => scope.name).filter(Boolean)
  collected.push({ name: [...path, name].join(" › "), body, scopes: [...scopes] })
}
export const test = it

export function beforeEach(body: Body): void {
  scopes.at(-1)?.beforeEach.push(body)
}

export function afterEach(body: Body): void {
  scopes.at(-1)?.afterEach.push(body)
}

/** Runs every collected test in order; each gets its hooks, and a test past 15 s fails. */
export async function runCollected(): Promise<PageTestResult[]> {
  const results: PageTestResult[] = []
  for (const test of collected) {
    let error: string | undefined
    try {
      for (const scope of test.scopes) for (const hook of scope.beforeEach) await hook()
      await withTimeout(Promise.resolve().then(test.body), test.name)
    } catch (thrown) {
      error = describeError(thrown)
    }
    for (const scope of [...test.scopes].reverse()) {
      for (const hook of scope.afterEach) {
        try {
          await hook()
        } catch (thrown) {
          error ??= `afterEach: ${describeError(thrown)}`
        }
      }
    }
    results.push(error === undefined ? { name: test.name } : { name: test.name, error })
  }
  return results
}

function withTimeout(work: Promise<unknown>, name: string): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: timed out after ${timeout} ms`)), timeout)
  })
  return Promise.race([work, expired]).finally(() => clearTimeout(timer))
}

function describeError(thrown: unknown): string {
  return thrown instanceof Error ? `${thrown.message}\n${thrown.stack ?? ""}` : String(thrown)
}
