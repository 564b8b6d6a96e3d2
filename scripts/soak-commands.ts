// The soak's traffic towards the agent: a signage player announcing a new content every few seconds and a
// fleet manager patching a harmless hot key now and then, each config/set with a requestId so its answer
// can be paired. Each loop keeps its own cadence; a tick waits until `ready()` (the agent can hear it).
import type { MqttClient } from 'mqtt';
import type { DeviceTopics } from '../agent/contract/topics.js';

/** The hot key the soak toggles: 20 (the default) ↔ 21 px changes nothing a clip would show. */
export const CONFIG_KEY = 'detector.minFacePx';
const CONTENT_IDS = 4;

export interface ConfigResult {
  requestId: string | null;
  ok: boolean;
  errors: { path: string; message: string }[];
  applied: string[];
}

export interface CommandOptions {
  client: MqttClient;
  topics: DeviceTopics;
  contentEveryS: number;
  configEveryS: number;
  /** Resolves when the soak ends (wakes a waiting loop). */
  stopped: Promise<void>;
  ready: () => boolean;
  isStopping: () => boolean;
  log: (line: string) => void;
}

export interface Commands {
  /** content/set messages sent: each names a content other than the one before, so each starts a play. */
  readonly contentSent: number;
  /** requestIds of the config/set messages sent, in order. */
  readonly configSent: readonly string[];
  /** Both loops finished (after `stopped`). */
  done: Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startCommands(o: CommandOptions): Commands {
  const state = { contentSent: 0, configSent: [] as string[] };
  const waitReady = async (): Promise<boolean> => {
    while (!o.isStopping()) {
      if (o.ready()) return true;
      await Promise.race([sleep(500), o.stopped]);
    }
    return false;
  };
  const every = async (seconds: number, send: (k: number) => Promise<void>) => {
    const start = Date.now();
    for (let k = 1; ; k++) {
      const due = start + k * seconds * 1000;
      await Promise.race([sleep(Math.max(0, due - Date.now())), o.stopped]);
      if (!(await waitReady())) return;
      try {
        await send(k);
      } catch (err) {
        o.log(`command not sent: ${(err as Error).message}`);
      }
    }
  };
  const content = every(o.contentEveryS, async (k) => {
    const n = k % CONTENT_IDS;
    // Counted before it is sent: one that fails to go out is a play without its impression, reported.
    state.contentSent++;
    await o.client.publishAsync(o.topics.contentSet, JSON.stringify({ id: `soak-ad-${n}`, name: `Soak ad ${n}` }), { qos: 1 });
  });
  const config = every(o.configEveryS, async (k) => {
    const requestId = `soak-config-${k}`;
    const patch = { requestId, detector: { minFacePx: k % 2 ? 21 : 20 } };
    state.configSent.push(requestId);
    await o.client.publishAsync(o.topics.configSet, JSON.stringify(patch), { qos: 1 });
  });
  return {
    get contentSent() {
      return state.contentSent;
    },
    get configSent() {
      return state.configSent;
    },
    done: Promise.all([content, config]).then(() => undefined),
  };
}
