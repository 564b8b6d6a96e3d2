// The daily summary's per-content totals. Content ids come from the network (content/set), so they are
// kept in a Map, never as keys of a plain object: an id "__proto__" or "constructor" is a content like any
// other (as a plain-object key it reached Object.prototype and set `plays` to NaN for the whole process).
//
// Bounded: at most MAX_CONTENT_IDS ids keep their own entry. When a new id arrives with the table full,
// the id with the fewest plays (the least recently played among equals) is folded into `otherContent`
// (its counts stay in the day's totals) and the new id takes its place. A rotation of a few hundred ads
// keeps its popular ones; a player inventing a new id per play cannot grow the retained summary (3,000
// distinct ids made it 515 KB).
export const MAX_CONTENT_IDS = 200;

export interface ContentTotals {
  plays: number;
  ots: number;
  viewers: number;
  watchers: number;
  attentionMs: number;
}

export interface OtherContent extends ContentTotals {
  /** Ids folded in (one id may count again if it came back after being folded). */
  contents: number;
}

export interface ImpressionTotals {
  contentId: string;
  ots: number;
  viewers: number;
  watchers: number;
  attentionMs: number;
  mergedPlays?: number;
}

interface Entry extends ContentTotals {
  /** Order of the last play, for ties among the least played. */
  last: number;
}

const zero = (): ContentTotals => ({ plays: 0, ots: 0, viewers: 0, watchers: 0, attentionMs: 0 });

function addTo(t: ContentTotals, r: ContentTotals): void {
  t.plays += r.plays;
  t.ots += r.ots;
  t.viewers += r.viewers;
  t.watchers += r.watchers;
  t.attentionMs += r.attentionMs;
}

/** The content part of a saved summary (read back from disk). */
export interface SavedContent {
  byContent?: Record<string, ContentTotals>;
  otherContent?: OtherContent;
  mergedPlays?: number;
}

export class ContentBook {
  private readonly byId = new Map<string, Entry>();
  private other: OtherContent | null = null;
  private merged = 0;
  private clock = 0;

  constructor(
    saved: SavedContent = {},
    private readonly max = MAX_CONTENT_IDS,
  ) {
    // Object.entries reads own keys only: "__proto__" from JSON.parse is an own key, and stays a content id.
    // A file written before the bound (thousands of ids) is folded down to it here.
    for (const [id, t] of Object.entries(saved.byContent ?? {})) addTo(this.entry(id), t);
    if (saved.otherContent) this.other = { ...saved.otherContent };
    this.merged = saved.mergedPlays ?? 0;
  }

  get size(): number {
    return this.byId.size;
  }

  add(r: ImpressionTotals): void {
    const e = this.byId.get(r.contentId) ?? this.entry(r.contentId);
    addTo(e, { plays: 1, ots: r.ots, viewers: r.viewers, watchers: r.watchers, attentionMs: r.attentionMs });
    e.last = ++this.clock;
    this.merged += r.mergedPlays ?? 0;
  }

  private entry(id: string): Entry {
    if (this.byId.size >= this.max) this.foldLeastPlayed();
    const e = { ...zero(), last: ++this.clock };
    this.byId.set(id, e);
    return e;
  }

  private foldLeastPlayed(): void {
    let victim: [string, Entry] | null = null;
    for (const kv of this.byId) {
      const [, e] = kv;
      if (!victim || e.plays < victim[1].plays || (e.plays === victim[1].plays && e.last < victim[1].last)) victim = kv;
    }
    if (!victim) return;
    this.byId.delete(victim[0]);
    this.other ??= { contents: 0, ...zero() };
    this.other.contents++;
    addTo(this.other, victim[1]);
  }

  /** The summary's content fields; absent when nothing played (as before). */
  toJSON(): SavedContent {
    const out: SavedContent = {};
    if (this.byId.size) {
      // Built with Object.fromEntries (CreateDataProperty): "__proto__" becomes an own key, not a prototype.
      out.byContent = Object.fromEntries(
        [...this.byId].map(([id, e]) => [id, { plays: e.plays, ots: e.ots, viewers: e.viewers, watchers: e.watchers, attentionMs: e.attentionMs }]),
      );
    }
    if (this.other) out.otherContent = { ...this.other };
    if (this.merged) out.mergedPlays = this.merged;
    return out;
  }
}
