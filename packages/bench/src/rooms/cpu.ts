/** CPU time (user + system, every thread of the process) used so far, in ms. */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}
