export { IndexedDbStorage, type IndexedDbStorageOptions } from "./indexeddb-storage.js"
