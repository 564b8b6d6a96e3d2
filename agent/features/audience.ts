// The retained {root}/audience snapshot: who is here now, with labels, counts and histograms. Published
// on change, at most once a second; a change inside the second goes out when the second is up, even if
// frames stop coming; the last snapshot (usually: nobody) is never lost to the limit at stop.
import { audiencePayload, AudienceThrottle } from '../publish/audience.js';
import type { AudiencePerson } from '../track/visits.js';
import { Sends, type Feature, type FeatureContext } from './feature.js';

export class AudienceFeature implements Feature {
  readonly name = 'audience';
  private readonly throttle = new AudienceThrottle(1000);
  private readonly sends: Sends;
  private timer: NodeJS.Timeout | null = null;
  private people: AudiencePerson[] = [];
  private ts = 0;
  private off: (() => void) | null = null;

  constructor(private readonly ctx: FeatureContext) {
    this.sends = new Sends(ctx.log('audience'));
  }

  start(): void {
    this.off = this.ctx.bus.on('frame', ({ people, ts }) => this.onFrame(people, ts));
    // A fresh snapshot at once: the retained one may still list the people present at an unclean stop.
    this.ts = Date.now();
    this.throttle.due([], this.ts);
    this.publish();
  }

  private publish(): void {
    this.sends.add(this.ctx.publisher.publishAudience(audiencePayload(this.people, this.ts, this.ctx.device)));
  }

  private onFrame(people: AudiencePerson[], ts: number): void {
    this.people = people;
    this.ts = ts;
    if (this.throttle.due(people, Date.now())) {
      this.publish();
    } else if (!this.timer && this.throttle.changed(people)) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.throttle.due(this.people, Date.now())) this.publish();
      }, 1000);
    }
  }

  async stop(): Promise<void> {
    this.off?.();
    if (this.timer) clearTimeout(this.timer);
    if (this.throttle.changed(this.people)) this.publish();
    await this.sends.settle();
  }
}
