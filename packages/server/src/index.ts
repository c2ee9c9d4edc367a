export type { RedisServiceOptions } from "./redis.js"
export { createServer, type RelayLimits, type ServerOptions, type TandemServer } from "./server.js"
