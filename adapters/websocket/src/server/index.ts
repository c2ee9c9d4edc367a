export {
  defaultServerLimits,
  type ServerChannel,
  type ServerLimits,
  type TrafficObserver,
  WebSocketServerAdapter,
  type WebSocketServerAdapterOptions,
} from "./adapter.js"
export { TokenBucket } from "./token-bucket.js"
