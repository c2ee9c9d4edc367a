export { type NetworkPair, networkConformance } from "./network-conformance.js"
export { type StorageConformanceOptions, storageConformance } from "./storage-conformance.js"
