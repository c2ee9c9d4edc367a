export {
  defaultServerLimits,
  type ServerLimits,
  WebSocketServerAdapter,
  type WebSocketServerAdapterOptions,
} from "./adapter.js"
export { TokenBucket } from "./token-bucket.js"
