/**
 * "Alerts were just committed": the consumers and the retroactive scan notify, the alert outbox
 * wakes at once instead of waiting for its next poll (ingest → alert published well under 1 s).
 */
export class AlertSignal {
  private readonly listeners = new Set<() => void>();

  notify(): void {
    for (const listener of this.listeners) listener();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
