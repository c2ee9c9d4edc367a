import { resolve } from "node:path"
import { parseArgs } from "node:util"
import { configure, getConsoleSink, getLogger, getTextFormatter, type LogLevel } from "@logtape/logtape"
import { FsStorage } from "@tandem/storage-fs"
import { instanceIdIn, redisFromCli } from "./redis-cli.js"
import { createServer } from "./server.js"

const HELP = `Usage: tandem serve [options]

Starts a Tandem relay: documents and rooms over WebSocket, health at GET /healthz.

Options (each also read from the environment variable in brackets):
  -p, --port <n>         port to listen on (TANDEM_PORT, default 4000)
      --host <addr>      address to listen on (TANDEM_HOST, default 0.0.0.0)
      --data <dir>       where documents are kept (TANDEM_DATA, default ./data)
      --memory           keep documents in memory only; they are lost on exit (TANDEM_MEMORY=1)
      --redis <url>      join other instances through Redis as one service (TANDEM_REDIS_URL)
      --service <name>   the service's name in Redis (TANDEM_SERVICE, default tandem)
      --instance-id <id> this instance's id (TANDEM_INSTANCE_ID, default: kept in <data>/instance-id)
      --instance-ttl <ms> an instance silent this long is dead (TANDEM_INSTANCE_TTL, default 12000)
      --log-level <lvl>  trace, debug, info, warning, error or fatal (TANDEM_LOG_LEVEL, default info)
  -h, --help             show this help
`

const levels = ["trace", "debug", "info", "warning", "error", "fatal"] as const

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === "--help" || command === "-h" || command === undefined) {
    process.stdout.write(HELP)
    return command === undefined ? 1 : 0
  }
  if (command !== "serve") {
    process.stderr.write(`unknown command ${command}\n\n${HELP}`)
    return 1
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      port: { type: "string", short: "p" },
      host: { type: "string" },
      data: { type: "string" },
      memory: { type: "boolean" },
      redis: { type: "string" },
      service: { type: "string" },
      "instance-id": { type: "string" },
      "instance-ttl": { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(HELP)
    return 0
  }
  const env = process.env
  const port = Number(values.port ?? env.TANDEM_PORT ?? 4000)
  const host = values.host ?? env.TANDEM_HOST ?? "0.0.0.0"
  const level = (values["log-level"] ?? env.TANDEM_LOG_LEVEL ?? "info") as LogLevel
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a port number, not ${port}`)
  if (!levels.includes(level as (typeof levels)[number]))
    throw new Error(`--log-level must be one of ${levels.join(", ")}`)

  await configure({
    sinks: { console: getConsoleSink({ formatter: getTextFormatter({ value: "bare" }) }) },
    loggers: [
      { category: ["tandem"], lowestLevel: level, sinks: ["console"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  })
  const log = getLogger(["tandem", "cli"])
  const memory = values.memory ?? env.TANDEM_MEMORY === "1"
  const dataDir = resolve(values.data ?? env.TANDEM_DATA ?? "data")
  const storage = memory ? undefined : await FsStorage.open({ dir: dataDir })
  if (storage) log.info("documents are kept in {dir}", { dir: dataDir })
  const redis = await redisFromCli(values, env, () => instanceIdIn(memory ? null : dataDir))
  const server = await createServer({ port, host, ...(storage && { storage }), ...(redis && { redis }) })
  const relay = server.redis
  // With Redis away at start-up, the relay serves its own clients and joins the service later.
  void relay?.whenStarted().then(() => {
    log.info("joined the service {service} as {instanceId}: {instances} instances", {
      service: redis?.service ?? "tandem",
      instanceId: relay.instanceId,
      instances: relay.stats.instances,
    })
  })
  log.info("tandem relay ready at {url} (health: http://{host}:{port}/healthz)", {
    url: server.url,
    host: host === "0.0.0.0" ? "127.0.0.1" : host,
    port: server.port,
  })

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info("{signal}: closing connections and writing what is pending", { signal })
    await server.close()
    process.exit(0)
  }
  process.on("SIGTERM", () => void stop("SIGTERM"))
  process.on("SIGINT", () => void stop("SIGINT"))
  return -1
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (error: unknown) => {
    process.stderr.write(`tandem: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
