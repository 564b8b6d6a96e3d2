// Proof of play: the signage player publishes what is on screen on {root}/content/set; when a play ends
// (the next one starts, `{"id": null}`, or the agent stops) one impression record goes out on
// {root}/impressions through the outbox: opportunities to see, viewers, watchers, attention and the
// viewers' demographics during that play.
import { CONTRACT_LABELS, reportedTasks, TASKS, type Task } from '../contract/labels.js';
import type { ContentSet, ImpressionPayload } from '../contract/payloads.js';
import { ContentSetSchema } from '../contract/payloads.js';
import { Value } from '@sinclair/typebox/value';
import type { FrameDone, PresentPerson } from './events.js';
import { FeatureBase, type FeatureContext } from './feature.js';
import { CommandGate, type Admission } from './command-gate.js';

interface Viewer {
  labels: PresentPerson['labels'];
  lookingMs: number;
  lastTs: number;
  lastLooking: boolean;
}

interface Play {
  id: string;
  name?: string;
  startedAt: Date;
  farAtStart: number;
  viewers: Map<string, Viewer>;
  /** content/set plays beyond the rate limit folded into this one. */
  merged?: number;
}

/** Frames further apart than this do not count as continuous looking (the agent was not watching). */
const MAX_LOOK_GAP_MS = 1000;

export class ImpressionsFeature extends FeatureBase {
  readonly name = 'impressions';
  private play: Play | null = null;
  private farFaces = 0;
  /** Who was present after the latest frame: a play that starts now has them as viewers already. */
  private present: { people: PresentPerson[]; ts: number } = { people: [], ts: 0 };
  private readonly gate: CommandGate;
  /** The latest content/set beyond the rate limit, applied when the bucket has a token again. */
  private held: ContentSet | null = null;
  private heldTimer: NodeJS.Timeout | null = null;
  /** Plays merged since the last summary line in the log. */
  private mergedSinceLog = 0;
  private mergedBeforePlay = 0;
  /** Messages within the rate, applied one per turn (see enqueue). */
  private readonly ready: ContentSet[] = [];

  constructor(
    ctx: FeatureContext,
    private readonly now: () => Date = () => new Date(),
    gate?: CommandGate,
  ) {
    super(ctx, 'impressions');
    this.gate = gate ?? new CommandGate({ name: 'content/set', limit: () => ctx.config.mqtt.commandLimits.contentSet, log: ctx.log('impressions') });
    this.gate.counts.merged = 0;
  }

  /** The content/set gate (its counts go to stats). */
  get commands(): CommandGate {
    return this.gate;
  }

  private get log() {
    return this.ctx.log('impressions');
  }

  start(): void {
    this.command(
      this.gate,
      this.ctx.topics.contentSet,
      (payload) => this.onAdmitted(payload, 'accepted'),
      (payload) => this.onAdmitted(payload, 'limited'),
    );
    this.on('frame', (f) => this.onFrame(f));
    // A visit can open between two frames (its labels arrive from the classifier) and a play can end
    // before the next frame: the entered event itself makes the person a viewer of the running play.
    this.on('visit', ({ event }) => {
      if (!this.play || event.type === 'left' || this.play.viewers.has(event.person)) return;
      const labels = Object.fromEntries(Object.entries(event.attributes).map(([t, p]) => [t, p!.label])) as PresentPerson['labels'];
      this.play.viewers.set(event.person, { labels, lookingMs: 0, lastTs: event.ts, lastLooking: false });
    });
  }

  /**
   * One content/set message, through the shared command rules. Beyond the rate limit a message is held
   * (the latest wins) and applied as soon as the bucket allows: the screen's last state always arrives,
   * but plays shorter than the limit allows are merged into the running play (counted, never silent).
   */
  onContentSet(payload: Buffer, retained: boolean): void {
    this.gate.take(
      payload,
      retained,
      (p) => this.onAdmitted(p, 'accepted'),
      (p) => this.onAdmitted(p, 'limited'),
    );
  }

  private onAdmitted(payload: Buffer, a: Exclude<Admission, 'retained'>): void {
    const next = this.parse(payload);
    if (!next) return;
    if (this.held) this.merge(); // superseded by this newer message, whichever way it goes
    if (a === 'accepted') {
      this.dropHeld();
      this.enqueue(next);
      return;
    }
    this.held = next;
    this.heldTimer ??= setTimeout(() => this.applyHeld(), this.gate.wait());
  }

  /**
   * Plays apply one per turn of the event loop: each ends a play with a durable record (fsync), and a
   * burst of them in one go held the frame loop for the sum of those writes.
   */
  private enqueue(next: ContentSet): void {
    if (this.ready.push(next) === 1) setImmediate(() => this.applyReady());
  }

  private applyReady(all = false): void {
    do {
      const next = this.ready.shift();
      if (next) this.apply(next);
    } while (all && this.ready.length);
    if (this.ready.length) setImmediate(() => this.applyReady());
  }

  /** The held message is superseded (or ends with the agent): its play never becomes a record of its own. */
  private merge(): void {
    this.held = null;
    this.gate.counts.merged! += 1;
    this.mergedSinceLog++;
    // Merged before any play runs (the first of a burst is still queued): counted in the next one.
    if (this.play) this.play.merged = (this.play.merged ?? 0) + 1;
    else this.mergedBeforePlay++;
  }

  private dropHeld(): void {
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = null;
    this.held = null;
  }

  private applyHeld(): void {
    this.heldTimer = null;
    const held = this.held;
    if (!held) return;
    if (!this.gate.takeLater()) {
      this.heldTimer = setTimeout(() => this.applyHeld(), this.gate.wait());
      return;
    }
    this.held = null;
    if (this.mergedSinceLog) {
      this.gate.warn(
        `content/set: more plays than allowed (${this.gate.describeLimit()}; mqtt.commandLimits.contentSet): ${this.mergedSinceLog} merged into the plays around them (impression mergedPlays)`,
      );
      this.mergedSinceLog = 0;
    }
    this.enqueue(held);
  }

  /** The message as a ContentSet, or null (refused with a warning: it changes nothing, now or later). */
  private parse(payload: Buffer): ContentSet | null {
    let body: unknown;
    try {
      body = JSON.parse(String(payload));
    } catch {
      this.gate.warn('content/set: not JSON; expected {"id": "ad-1", "name": "…"} or {"id": null}');
      return null;
    }
    if (!Value.Check(ContentSetSchema, body)) {
      const first = [...Value.Errors(ContentSetSchema, body)][0];
      this.gate.warn(`content/set: ${first ? `${first.path || '(root)'} ${first.message}` : 'invalid'}; expected {"id": "ad-1", "name": "…"} or {"id": null}`);
      return null;
    }
    return body as ContentSet;
  }

  private apply(next: ContentSet): void {
    if (this.play && next.id === this.play.id) return;
    this.endPlay();
    if (next.id !== null) {
      const viewers = new Map<string, Viewer>(
        this.present.people.map((p) => [p.person, { labels: { ...p.labels }, lookingMs: 0, lastTs: this.present.ts, lastLooking: p.looking === true }]),
      );
      this.play = { id: next.id, ...(next.name ? { name: next.name } : {}), startedAt: this.now(), farAtStart: this.farFaces, viewers };
      if (this.mergedBeforePlay) this.play.merged = this.mergedBeforePlay;
      this.mergedBeforePlay = 0;
      this.log.info(`content ${next.id}${next.name ? ` (${next.name})` : ''} started`);
    }
  }

  private onFrame(f: FrameDone): void {
    this.farFaces = f.farFaces;
    this.present = { people: f.people, ts: f.ts };
    const play = this.play;
    if (!play) return;
    for (const p of f.people) {
      const looking = p.looking === true;
      const v = play.viewers.get(p.person);
      if (!v) {
        play.viewers.set(p.person, { labels: { ...p.labels }, lookingMs: 0, lastTs: f.ts, lastLooking: looking });
        continue;
      }
      const gap = f.ts - v.lastTs;
      if (v.lastLooking && looking && gap > 0 && gap <= MAX_LOOK_GAP_MS) v.lookingMs += gap;
      Object.assign(v, { labels: { ...v.labels, ...p.labels }, lastTs: f.ts, lastLooking: looking });
    }
  }

  /** The record of the play in progress, if any, and no play afterwards. */
  private endPlay(): void {
    const play = this.play;
    this.play = null;
    if (!play) return;
    const c = this.ctx.config;
    const record = impressionRecord(play, this.now(), this.farFaces, this.ctx.device, c.audience.watcherMinMs, reportedTasks(c.classifier.emotion));
    this.ctx.records.publish('impressions', record);
    this.ctx.bus.emit('impression', record);
    this.log.info(
      `content ${play.id} ended: ${record.viewers} viewer(s), ${record.watchers} watcher(s), ${record.ots} opportunities to see${play.merged ? `, ${play.merged} play(s) beyond the rate limit merged in` : ''}`,
    );
  }

  protected override finish(): void {
    // Plays already within the rate apply now; a message still held never played on its own: merged.
    this.applyReady(true);
    if (this.held) this.merge();
    this.dropHeld();
    // A play cut short by a stop still happened: its record is not lost.
    this.endPlay();
  }
}

/** `tasks`: the reported ones (reportedTasks): a task turned off has no counts. */
export function impressionRecord(
  play: Play,
  endedAt: Date,
  farFacesNow: number,
  device: string,
  watcherMinMs: number,
  tasks: readonly Task[] = TASKS,
): ImpressionPayload {
  const viewers = [...play.viewers.values()];
  const demographics = Object.fromEntries(tasks.map((t) => [t, Object.fromEntries(CONTRACT_LABELS[t].map((l) => [l, 0]))])) as Record<
    Task,
    Record<string, number>
  >;
  for (const v of viewers)
    for (const t of tasks) {
      const l = v.labels[t];
      if (l && l in demographics[t]) demographics[t][l]! += 1;
    }
  return {
    schema: 1,
    device,
    ts: new Date().toISOString(),
    contentId: play.id,
    ...(play.name ? { contentName: play.name } : {}),
    startedAt: play.startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    durationMs: Math.max(0, endedAt.getTime() - play.startedAt.getTime()),
    ots: farFacesNow - play.farAtStart + viewers.length,
    viewers: viewers.length,
    watchers: viewers.filter((v) => v.lookingMs >= watcherMinMs).length,
    attentionMs: Math.round(viewers.reduce((a, v) => a + v.lookingMs, 0)),
    demographics,
    ...(play.merged ? { mergedPlays: play.merged } : {}),
  };
}
