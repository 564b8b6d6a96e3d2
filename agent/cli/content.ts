// percept content set ID | --none: what a signage player would publish on {root}/content/set, for
// testing a display without the player (the agent answers with an impression record when a play ends).
// The agent sends no acknowledgement of a content/set, so before publishing the command checks the
// device's retained status: a mistyped --device-id or a stopped agent is exit 69, not a silent 0.
// Limit: "online" means the agent was up when it last said so; a play sent in the instant it stops is lost.
import { Value } from '@sinclair/typebox/value';
import { ContentSetSchema } from '../contract/payloads.js';
import { withDevice } from './config-remote.js';
import { EXIT_USAGE } from '../lib/exit-codes.js';
import { firstMessage, NoAnswer, parseJson, type RemoteArgs } from './remote-device.js';

interface Status {
  state?: unknown;
  reason?: unknown;
}

export async function contentSet(id: string | undefined, a: RemoteArgs & { name?: string; none: boolean }): Promise<number> {
  if (!id && !a.none) {
    process.stderr.write('percept content set: name the content id (e.g. percept content set ad-1), or --none for nothing on screen\n');
    return EXIT_USAGE;
  }
  const body = a.none ? { id: null } : { id: id!, ...(a.name ? { name: a.name } : {}) };
  if (!Value.Check(ContentSetSchema, body)) {
    process.stderr.write('percept content set: an id is 1–128 characters and a name at most 256\n');
    return EXIT_USAGE;
  }
  return withDevice(a, async (client, t) => {
    const status = firstMessage(
      client,
      t.topics.status,
      a.timeout * 1000,
      (p) => {
        const v = parseJson(p);
        return typeof v === 'object' && v !== null ? (v as Status) : undefined;
      },
      'status',
    ).catch(() => {
      throw new NoAnswer(
        `device "${t.device}" never seen on this broker: no retained status on ${t.topics.status} within ${a.timeout} s; nothing sent (check --device-id and --mqtt-url)`,
      );
    });
    await client.subscribeAsync(t.topics.status, { qos: 1 });
    const s = await status;
    if (s.state !== 'online') {
      const why = typeof s.reason === 'string' ? ` (${s.reason})` : '';
      throw new NoAnswer(`device "${t.device}" is offline${why}: nothing sent; start its agent first`);
    }
    // Not retained: the agent ignores a retained play (it would restart after every reconnect).
    await client.publishAsync(t.topics.contentSet, JSON.stringify(body), { qos: 1, retain: false });
    process.stdout.write(`${t.topics.contentSet} ← ${JSON.stringify(body)}\n`);
    return 0;
  });
}
