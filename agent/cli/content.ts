// percept content set ID | --none: what a signage player would publish on {root}/content/set, for
// testing a display without the player (the agent answers with an impression record when a play ends).
import { Value } from '@sinclair/typebox/value';
import { ContentSetSchema } from '../contract/payloads.js';
import { withDevice } from './config-remote.js';
import { EXIT_USAGE } from './exit-codes.js';
import type { RemoteArgs } from './remote-device.js';

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
    // Not retained: the agent ignores a retained play (it would restart after every reconnect).
    await client.publishAsync(t.topics.contentSet, JSON.stringify(body), { qos: 1, retain: false });
    process.stdout.write(`${t.topics.contentSet} ← ${JSON.stringify(body)}\n`);
    return 0;
  });
}
