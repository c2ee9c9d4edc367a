import { parseArgs } from "node:util"
import { configure, getConsoleSink, getTextFormatter } from "@logtape/logtape"
import { startRedisServer } from "@tandem/adapter-redis/testing"
import { createServer, type TandemServer } from "@tandem/server"
import { runDemo } from "./demo.js"

// Starts Redis (the system's redis-server), three relays on one service, and a demo of clients on
// different relays sharing a room and a document. `--once` stops after the demo.

const { values } = parseArgs({
  // `pnpm start -- --once` passes the `--` along.
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    ports: { type: "string", default: "4001,4002,4003" },
    once: { type: "boolean", default: false },
  },
})
const ports = (values.ports ?? "").split(",").map(Number)

await configure({
  sinks: { console: getConsoleSink({ formatter: getTextFormatter({ value: "bare" }) }) },
  loggers: [
    { category: ["tandem"], lowestLevel: "info", sinks: ["console"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
  ],
})

const redis = await startRedisServer()
console.log(`redis-server ready at ${redis.url}`)
const relays: TandemServer[] = []
for (const [i, port] of ports.entries()) {
  const relay = await createServer({
    port,
    host: "127.0.0.1",
    redis: { url: redis.url, service: "cluster-example", instanceId: `relay-${i + 1}` },
  })
  await relay.redis?.whenStarted()
  relays.push(relay)
}
console.log(`relays listening at ${relays.map((relay) => relay.url).join(", ")}`)

const result = await runDemo(relays.map((relay) => relay.url))
for (const [i, members] of result.members.entries()) {
  console.log(`client on ${relays[i]?.url} sees ${members.join(", ")}`)
}
console.log(`the note, the same on every client:\n${result.text}`)
console.log("converged: every client sees every member and every line")

const stop = async () => {
  await Promise.all(relays.map((relay) => relay.close()))
  await redis.close()
  process.exit(0)
}
if (values.once) await stop()
else {
  console.log("connect your own clients to any of the relays above; Ctrl-C stops everything")
  process.on("SIGINT", () => void stop())
  process.on("SIGTERM", () => void stop())
}
