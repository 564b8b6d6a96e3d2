// A delivery barrier instead of a sleep: the broker forwards messages to a subscriber in the order it
// received them, so once a marker published now comes back, every message that reached the broker
// before it (retained ones on subscribe, those of an agent that has exited) has been delivered too.
// The marker is taken out before the client's own 'message' listeners see it, so tests that record
// every message (and parse them as JSON) never meet it.
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';

export async function flush(client: MqttClient, timeoutMs = 10_000): Promise<void> {
  const topic = `percept-test/flush/${randomUUID()}`;
  const emit = client.emit;
  let timer: NodeJS.Timeout | undefined;
  const back = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`flush marker not echoed within ${timeoutMs} ms`)), timeoutMs);
    client.emit = function (this: MqttClient, event: string | symbol, ...args: unknown[]) {
      if (event === 'message' && args[0] === topic) {
        resolve();
        return true;
      }
      return emit.call(this, event as 'message', ...(args as [string, Buffer, never]));
    } as MqttClient['emit'];
  });
  try {
    await client.subscribeAsync(topic, { qos: 1 });
    await client.publishAsync(topic, 'flush', { qos: 1 });
    await back;
    await client.unsubscribeAsync(topic);
  } finally {
    clearTimeout(timer);
    client.emit = emit;
  }
}
