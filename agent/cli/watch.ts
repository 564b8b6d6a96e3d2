// percept watch: a live view of a device over MQTT (status, stats, audience, events), redrawn in place on
// a terminal, or one JSON line per message with --json. Ends with exit 0 on Ctrl-C (SIGINT) or SIGTERM.
import mqtt, { type MqttClient } from 'mqtt';
import { ConfigError } from '../config/load.js';
import { escapeJsonLine } from '../lib/logging.js';
import { topicMatches, TOPICS } from '../contract/topics.js';
import { parseJson, resolveTarget, type RemoteArgs } from './remote-device.js';
import { emptyState, frame, reduce, render, type WatchKind, type WatchState } from './watch-view.js';
import { EXIT_CONFIG } from '../lib/exit-codes.js';

export interface WatchArgs extends RemoteArgs {
  json: boolean;
}

const REDRAW_MS = 1000;
const RECONNECT_MS = 2000;

export async function watchCommand(a: WatchArgs): Promise<number> {
  let target;
  try {
    target = resolveTarget(a);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`percept watch: ${e.message}\n`);
    return EXIT_CONFIG;
  }
  // A live view keeps trying: the broker (often the agent's embedded one) may come up after it.
  const client: MqttClient = mqtt.connect(target.url, { ...target.options, reconnectPeriod: RECONNECT_MS });
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
      process.stdout.write(`${escapeJsonLine(JSON.stringify({ kind, topic, receivedAt: new Date().toISOString(), payload: body }))}\n`);
      return;
    }
    state = reduce(state, kind, body, Date.now());
    if (tty) draw();
  });
  const broker = (text: string) => {
    state = { ...state, broker: text };
    if (a.json) process.stdout.write(`${JSON.stringify({ kind: 'broker', state: text })}\n`);
    else if (tty) draw();
  };
  let announced = false;
  client.on('connect', () => {
    broker('connected');
    client
      .subscribeAsync([topics.status, topics.stats, topics.audience, `${topics.root}/events/+`], { qos: 1 })
      .then(() => {
        if (a.json && !announced) process.stdout.write(`${JSON.stringify({ kind: 'watching', device, url })}\n`);
        announced = true;
      })
      .catch((err: Error) => broker(`subscribe failed: ${err.message}`));
  });
  client.on('error', (err) => broker(`error: ${err.message}; retrying`));
  client.on('offline', () => {
    if (state.broker === 'connected') broker('disconnected; retrying');
  });

  const timer = tty ? setInterval(draw, REDRAW_MS) : null;
  if (tty) process.stdout.write('\x1b[?25l\x1b[2J'); // hide the cursor, clear once
  if (tty) draw();

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  if (timer) clearInterval(timer);
  if (tty) process.stdout.write('\x1b[?25h\n');
  else if (!a.json) draw(); // a pipe gets the final screen once
  await client.endAsync(true);
  return 0;
}
