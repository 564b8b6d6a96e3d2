// Two duties of the state directory beyond the event sink: ending the visits an unclean stop left open,
// and telling the status when the disk refuses writes (the sink then holds events in memory).
import type { AgentBus } from '../features/events.js';
import type { Logger } from '../lib/logging.js';
import type { EventSink } from '../publish/event-sink.js';
import { OpenVisitsStore } from '../publish/open-visits.js';

/** Visits an unclean stop left open end now (`left`, recovered); open visits are recorded from here on. */
export function endLeftoverVisits(bus: AgentBus, sink: EventSink, stateDir: string, log: Logger): void {
  const store = new OpenVisitsStore(stateDir, log);
  const leftovers = store.takeLeftovers(new Date());
  for (const p of leftovers) sink.emit((seq) => ({ ...p, seq }));
  if (leftovers.length) log.warn(`${leftovers.length} visit(s) left open by an unclean stop ended now with "left" (recovered)`);
  bus.on('visit', ({ payload }) => store.onEvent(payload));
  bus.on('frame', ({ people, ts }) => store.touch(people, ts));
}

/** The status says why the agent runs degraded (a full disk) while it does, checked every 2 s; returns the timer. */
export function watchDegraded(bus: AgentBus, sink: EventSink, log: Logger): NodeJS.Timeout {
  let last: string | null = null;
  const timer = setInterval(() => {
    const now = sink.degraded;
    if (now === last) return;
    last = now;
    bus.emit('status', { degraded: now ?? undefined });
    if (now) log.warn(`degraded: ${now}`);
    else log.info('no longer degraded: the state directory takes writes again');
  }, 2000);
  timer.unref();
  return timer;
}
