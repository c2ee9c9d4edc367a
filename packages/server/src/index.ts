export { createServer, type RelayLimits, type ServerOptions, type TandemServer } from "./server.js"
export type { RedisServiceOptions } from "./redis.js"
