export { FsStorage, type FsStorageOptions, type FsStorageStats } from "./fs-storage.js"
