// The retained {root}/audience snapshot: who is here now, with labels, counts and histograms. Published
// on change, at most once a second; a change inside the second goes out when the second is up, even if
// frames stop coming; the last snapshot (usually: nobody) is never lost to the limit at stop.
import { audiencePayload, AudienceThrottle } from '../publish/audience.js';
import { reportedTasks } from '../contract/labels.js';
import type { PresentPerson } from './events.js';
import { FeatureBase, type FeatureContext } from './feature.js';

export class AudienceFeature extends FeatureBase {
  readonly name = 'audience';
  private readonly throttle = new AudienceThrottle(1000);
  private timer: NodeJS.Timeout | null = null;
  private people: PresentPerson[] = [];
  private ts = 0;

  constructor(ctx: FeatureContext) {
    super(ctx, 'audience');
  }

  start(): void {
    this.on('frame', ({ people, ts }) => this.onFrame(people, ts));
    this.hold(() => {
      if (this.timer) clearTimeout(this.timer);
    });
    // A fresh snapshot at once: the retained one may still list the people present at an unclean stop.
    this.ts = Date.now();
    this.throttle.due([], this.ts);
    this.send();
  }

  private send(): void {
    this.publish('audience', audiencePayload(this.people, this.ts, this.ctx.device, reportedTasks(this.ctx.config.classifier.emotion), Date.now()));
  }

  private onFrame(people: PresentPerson[], ts: number): void {
    this.people = people;
    this.ts = ts;
    if (this.throttle.due(people, Date.now())) {
      this.send();
    } else if (!this.timer && this.throttle.changed(people)) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.throttle.due(this.people, Date.now())) this.send();
      }, 1000);
    }
  }

  protected override finish(): void {
    if (this.throttle.changed(this.people)) this.send();
  }
}
