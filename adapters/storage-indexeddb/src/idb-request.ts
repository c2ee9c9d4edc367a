import { type DocId, TandemError } from "@tandem/repo"

/** Resolves with a request's result, rejects with its error. */
export function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

/** Resolves once the transaction committed; rejects if it aborted or failed. */
export function committed(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve()
    transaction.onerror = () => reject(transaction.error)
    transaction.onabort = () => reject(transaction.error ?? new Error("transaction aborted"))
  })
}

export function storageFailed(what: string, docId: DocId | undefined, cause: unknown): TandemError {
  const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
  const subject = docId === undefined ? "" : ` ${JSON.stringify(docId)}`
  return new TandemError("STORAGE_FAILED", `IndexedDB could not ${what}${subject}: ${reason}`, {
    ...(docId === undefined ? {} : { docId }),
  })
}
