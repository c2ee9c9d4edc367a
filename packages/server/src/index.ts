export { createServer, type RelayLimits, type ServerOptions, type TandemServer } from "./server.js"
