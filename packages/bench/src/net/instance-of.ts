/** The instance a client is on, when clients are spread over `instances` servers by id (ids from 1). */
export function instanceOf(id: number, instances: number): number {
  return (id - 1) % instances
}
