// percept watch: a live view of a device over MQTT (status, stats, audience, events), redrawn in place on
// a terminal, or one JSON line per message with --json. Ends with exit 0 on Ctrl-C (SIGINT) or SIGTERM.
import type { MqttClient } from 'mqtt';
import { ConfigError } from '../config/load.js';
import { topicMatches, TOPICS } from '../contract/topics.js';
import { connect, NoAnswer, parseJson, resolveTarget, type RemoteArgs } from './remote-device.js';
import { emptyState, frame, reduce, render, type WatchKind, type WatchState } from './watch-view.js';
import { EXIT_CONFIG } from './exit-codes.js';

export interface WatchArgs extends RemoteArgs {
  json: boolean;
}

const REDRAW_MS = 1000;

export async function watchCommand(a: WatchArgs): Promise<number> {
  let client: MqttClient;
  let target;
  try {
    target = resolveTarget(a);
    client = await connect(target);
  } catch (e) {
    if (e instanceof NoAnswer) {
      process.stderr.write(`percept watch: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`percept watch: ${e.message}\n`);
      return EXIT_CONFIG;
    }
    throw e;
  }
  const { topics, device, url } = target;
  const kinds: [WatchKind, (t: string) => boolean][] = [
    ['status', (t) => t === topics.status],
    ['stats', (t) => t === topics.stats],
    ['audience', (t) => t === topics.audience],
    ['event', (t) => topicMatches(TOPICS.event, topics.root, t)],
  ];
  let state: WatchState = emptyState(device, url);
  const tty = !a.json && process.stdout.isTTY;
  const draw = () => {
    const lines = render(state, Date.now(), Math.max(40, process.stdout.columns || 80));
    process.stdout.write(tty ? frame(lines) : `${lines.join('\n')}\n\n`);
  };
  client.on('message', (topic, payload) => {
    const kind = kinds.find(([, m]) => m(topic))?.[0];
    const body = parseJson(payload);
    if (!kind || body === undefined) return;
    if (a.json) {
      process.stdout.write(`${JSON.stringify({ kind, topic, receivedAt: new Date().toISOString(), payload: body })}\n`);
      return;
    }
    state = reduce(state, kind, body, Date.now());
    if (tty) draw();
  });
  client.on('offline', () => {
    if (a.json) process.stdout.write(`${JSON.stringify({ kind: 'broker', state: 'disconnected' })}\n`);
  });

  const timer = tty ? setInterval(draw, REDRAW_MS) : null;
  if (tty) process.stdout.write('\x1b[?25l\x1b[2J'); // hide the cursor, clear once
  await client.subscribeAsync([topics.status, topics.stats, topics.audience, `${topics.root}/events/+`], { qos: 1 });
  if (a.json) process.stdout.write(`${JSON.stringify({ kind: 'watching', device, url })}\n`);
  else if (tty) draw();

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  if (timer) clearInterval(timer);
  if (tty) process.stdout.write('\x1b[?25h\n');
  else if (!a.json) draw(); // a pipe gets the final screen once
  await client.endAsync();
  return 0;
}
