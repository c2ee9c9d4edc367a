import { readFile } from "node:fs/promises"
import { resolve } from "node:path"
import { parseArgs } from "node:util"
import { configure, getConsoleSink, getLogger, getTextFormatter, type LogLevel } from "@logtape/logtape"
import { FsStorage } from "@tandem/storage-fs"
import type { AuthOptions } from "./auth/identify.js"
import type { JwtOptions } from "./auth/jwt.js"
import { instanceIdIn, redisFromCli } from "./redis-cli.js"
import { createServer } from "./server.js"

const HELP = `Usage: tandem serve [options]

Starts a Tandem relay: documents and rooms over WebSocket; GET /healthz, /readyz and /metrics,
and the admin API under /api/ on the same port.

Options (each also read from the environment variable in brackets):
  -p, --port <n>            port to listen on (TANDEM_PORT, default 4000)
      --host <addr>         address to listen on (TANDEM_HOST, default 0.0.0.0)
      --data <dir>          where documents are kept (TANDEM_DATA, default ./data)
      --memory              keep documents in memory only; they are lost on exit (TANDEM_MEMORY=1)
      --log-level <lvl>     trace, debug, info, warning, error or fatal (TANDEM_LOG_LEVEL, default info)

Authentication (without any of the first three, the relay is open: everyone is anonymous):
      --jwt-secret <s>      verify HS256 JWTs with this secret (TANDEM_JWT_SECRET)
      --jwt-public-key <f>  verify RS256 JWTs with the PEM public key in this file (TANDEM_JWT_PUBLIC_KEY)
      --jwks-url <url>      verify JWTs with the keys at this JWKS URL (TANDEM_JWKS_URL)
      --jwt-audience <a>    required audience (TANDEM_JWT_AUDIENCE)
      --jwt-issuer <i>      required issuer (TANDEM_JWT_ISSUER)
      --jwt-algorithm <a>   accepted algorithm, e.g. ES256 (TANDEM_JWT_ALGORITHM)
      --anonymous           let connections without a token in, as anonymous (TANDEM_ANONYMOUS=1)

Several instances as one service:
      --redis <url>         join the other instances on this Redis (TANDEM_REDIS_URL)
      --service <name>      the service's name in Redis (TANDEM_SERVICE, default tandem)
      --instance-id <id>    this instance's id (TANDEM_INSTANCE_ID, default: kept in <data>/instance-id)
      --instance-ttl <ms>   an instance silent this long is dead (TANDEM_INSTANCE_TTL, default 12000)

Operations:
      --admin-token <t>     bearer token for the admin API under /api/; off without it (TANDEM_ADMIN_TOKEN)
      --drain-timeout <ms>  how long SIGTERM/SIGINT may take to drain (TANDEM_DRAIN_TIMEOUT, default 10000)
  -h, --help                show this help
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
      "log-level": { type: "string" },
      "jwt-secret": { type: "string" },
      "jwt-public-key": { type: "string" },
      "jwks-url": { type: "string" },
      "jwt-audience": { type: "string" },
      "jwt-issuer": { type: "string" },
      "jwt-algorithm": { type: "string" },
      anonymous: { type: "boolean" },
      "admin-token": { type: "string" },
      "drain-timeout": { type: "string" },
      redis: { type: "string" },
      service: { type: "string" },
      "instance-id": { type: "string" },
      "instance-ttl": { type: "string" },
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
  const drainTimeout = Number(values["drain-timeout"] ?? env.TANDEM_DRAIN_TIMEOUT ?? 10_000)
  if (!Number.isFinite(drainTimeout) || drainTimeout <= 0)
    throw new Error(`--drain-timeout must be a positive number of ms, not ${drainTimeout}`)
  const adminToken = values["admin-token"] ?? env.TANDEM_ADMIN_TOKEN
  const redis = await redisFromCli(values, env, () => instanceIdIn(memory ? null : dataDir))
  const server = await createServer({
    port,
    host,
    ...(storage && { storage }),
    auth: await authOptions(values, env),
    ...(adminToken && { adminToken }),
    drainTimeout,
    ...(redis && { redis }),
  })
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
    log.info("{signal}: draining (clients reconnect elsewhere) and writing what is pending", { signal })
    try {
      await server.drain()
      log.info("drained")
      process.exit(0)
    } catch (error) {
      log.error("drain failed: {error}", { error })
      process.exit(1)
    }
  }
  process.on("SIGTERM", () => void stop("SIGTERM"))
  process.on("SIGINT", () => void stop("SIGINT"))
  return -1
}

async function authOptions(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): Promise<AuthOptions> {
  const text = (flag: string, variable: string) => (values[flag] as string | undefined) ?? env[variable]
  const secret = text("jwt-secret", "TANDEM_JWT_SECRET")
  const keyFile = text("jwt-public-key", "TANDEM_JWT_PUBLIC_KEY")
  const jwksUrl = text("jwks-url", "TANDEM_JWKS_URL")
  const audience = text("jwt-audience", "TANDEM_JWT_AUDIENCE")
  const issuer = text("jwt-issuer", "TANDEM_JWT_ISSUER")
  const algorithm = text("jwt-algorithm", "TANDEM_JWT_ALGORITHM")
  const anonymous = values.anonymous === true || env.TANDEM_ANONYMOUS === "1"
  const sources = [secret, keyFile, jwksUrl].filter((source) => source !== undefined)
  if (sources.length > 1) throw new Error("give only one of --jwt-secret, --jwt-public-key and --jwks-url")
  if (sources.length === 0) return { anonymous: true }
  const jwt: JwtOptions = {
    ...(secret !== undefined && { secret }),
    ...(keyFile !== undefined && { publicKey: await readFile(keyFile, "utf8") }),
    ...(jwksUrl !== undefined && { jwksUrl }),
    ...(audience !== undefined && { audience }),
    ...(issuer !== undefined && { issuer }),
    ...(algorithm !== undefined && { algorithms: [algorithm] }),
  }
  return { jwt, anonymous }
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
