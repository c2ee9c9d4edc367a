export { type ServiceKeys, serviceKeys } from "./keys.js"
export { RedisRelayAdapter, type RedisRelayOptions, type RedisRelayStats } from "./redis-adapter.js"
