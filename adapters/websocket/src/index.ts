export { type BackoffOptions, backoffDelay, defaultBackoff } from "./backoff.js"
export {
  type ConnectionError,
  type ConnectionState,
  WebSocketClientAdapter,
  type WebSocketClientOptions,
  type WebSocketFactory,
  type WebSocketLike,
} from "./client.js"
