/**
 * A labelled counter counted in plain numbers on the request path and handed to prom-client when
 * scraped: a labelled `inc()` builds and hashes a labels object on every call, a few per cent of a
 * cheap request's CPU. Two label values, the first a key of an outer Map, the second of an inner one.
 */
interface Entry {
  count: number;
  reported: number;
}

export class LabelCounts<A, B> {
  private readonly counts = new Map<A, Map<B, Entry>>();

  count(first: A, second: B): void {
    let inner = this.counts.get(first);
    if (inner === undefined) {
      inner = new Map();
      this.counts.set(first, inner);
    }
    const entry = inner.get(second);
    if (entry === undefined) inner.set(second, { count: 1, reported: 0 });
    else entry.count += 1;
  }

  /** Calls `report` with what each pair of labels counted since the last scrape. */
  reportNew(report: (first: A, second: B, increment: number) => void): void {
    for (const [first, inner] of this.counts) {
      for (const [second, entry] of inner) {
        if (entry.count === entry.reported) continue;
        report(first, second, entry.count - entry.reported);
        entry.reported = entry.count;
      }
    }
  }
}
