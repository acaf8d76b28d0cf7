/**
 * The mount list DUMP reports: which host mounted which directory. Informational only (RFC 1813
 * appendix I: the list may be stale), kept in memory and lost on restart like rpc.mountd's rmtab-less mode.
 */
export interface MountEntry {
  host: string
  directory: string
}

export class MountList {
  private readonly entries = new Map<string, MountEntry>()

  add(host: string, directory: string): void {
    this.entries.set(`${host}\0${directory}`, {host, directory})
  }

  remove(host: string, directory: string): void {
    this.entries.delete(`${host}\0${directory}`)
  }

  removeHost(host: string): void {
    for (const [key, entry] of this.entries) if (entry.host === host) this.entries.delete(key)
  }

  list(): MountEntry[] {
    return [...this.entries.values()]
  }
}
