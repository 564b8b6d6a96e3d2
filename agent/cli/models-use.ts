// percept models use DIR: verify an attribute model (files, graph, one inference), make it the config's
// classifier.models, and switch the running agent to it without a restart (a reload asked over the control
// socket in the state directory, which answers with the outcome; the agent verifies the model again in its
// workers before switching, and never switches to a model that fails). Visits and events go on.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, SYSTEM_CONFIG } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import { replaceFile, withKeySet } from '../config/file-edit.js';
import { ModelError } from '../inference/manifest.js';
import { defaultStateDir } from '../lib/state-dir.js';
import { lockHolder } from '../lib/instance-lock.js';
import { askAgent, type ControlAnswer, type ReloadAnswer } from '../service/control-socket.js';
import { ACTIVE_MODEL_FILE, type ActiveModelRecord } from '../features/model-switch.js';
import { modelsByName } from './model-names.js';
import { EXIT_MODEL, EXIT_NO_ANSWER, EXIT_USAGE, exitCodeFor } from '../lib/exit-codes.js';

export interface UseArgs {
  dir: string;
  config?: string;
  stateDir?: string;
  wait: number;
}

const say = (m: string) => process.stdout.write(`${m}\n`);
const complain = (m: string) => process.stderr.write(`percept models use: ${m}\n`);
const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function readRecord(stateDir: string): ActiveModelRecord | null {
  try {
    return JSON.parse(readFileSync(join(stateDir, ACTIVE_MODEL_FILE), 'utf8')) as ActiveModelRecord;
  } catch {
    return null;
  }
}

export async function modelsUse(a: UseArgs): Promise<number> {
  const file = a.config ? resolve(a.config) : existsSync(SYSTEM_CONFIG) ? SYSTEM_CONFIG : null;
  if (!file) {
    complain(`no config file to write: name the one the agent runs with (-c FILE); ${SYSTEM_CONFIG} does not exist`);
    return EXIT_USAGE;
  }
  // A directory, or a name from "models list" (a relative path that exists wins over a name).
  const dir = existsSync(a.dir) ? resolve(a.dir) : (modelsByName().get(a.dir)?.dir ?? resolve(a.dir));
  const models = [dir];
  let name: string;
  try {
    // Imported when it runs: onnxruntime is loaded only by the commands that need it.
    const { verifyModelWithInference } = await import('../inference/merge/verify-model.js');
    const loaded = await verifyModelWithInference(dir);
    if (loaded.manifest.kind !== 'attributes')
      throw new ModelError(loaded.dir, [`kind is "${loaded.manifest.kind}"; classifier.models takes attributes models`]);
    name = loaded.manifest.name;
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    complain(`${err.message}; ${file} is unchanged`);
    return EXIT_MODEL;
  }
  let original: string;
  let stateDir: string;
  try {
    // The file with the new value must load as `percept run` would load it (every other key as it is).
    const loaded = loadConfig({ file, overrides: {}, readOverrides: false });
    original = readFileSync(file, 'utf8');
    const next = withKeySet(original, file, ['classifier', 'models'], models);
    loadConfig({ file, overrides: { classifier: { models } }, readOverrides: false });
    stateDir = a.stateDir ? resolve(a.stateDir) : loaded.config.state.dir || defaultStateDir();
    if (next !== original) replaceFile(file, next);
  } catch (err) {
    if (!(err instanceof ConfigError)) {
      const e = err as NodeJS.ErrnoException;
      complain(`cannot write ${file} (${e.code ?? e.message}); nothing changed`);
      return 73;
    }
    complain(`${err.message}; nothing changed`);
    return exitCodeFor(err);
  }
  say(`${name}: verified (sha256, graph, one inference); ${file}: classifier.models = [${dir}]`);

  const before = readRecord(stateDir);
  let reply: ControlAnswer;
  try {
    // The control socket in the state directory, made by the process holding its lock: never a signal
    // to a pid read from a file, which may belong to any program by now.
    reply = await askAgent(stateDir, 'reload', a.wait * 1000);
  } catch (err) {
    return unreachable(err as NodeJS.ErrnoException, stateDir, name, dir, a.wait);
  }
  const pid = reply.pid ?? '?';
  const answer = reply.ok ? ((reply.result as ReloadAnswer | undefined)?.models as ActiveModelRecord | null | undefined) : null;
  if (!reply.ok || !answer || !(same(answer.models, models) || (answer.refused && same(answer.refused.models, models)))) {
    complain(`the agent (pid ${pid}) did not confirm the switch${reply.error ? ` (${reply.error})` : ''}; its log says why (the config names ${dir})`);
    return EXIT_NO_ANSWER;
  }
  if (answer.refused && same(answer.refused.models, models)) {
    // The agent keeps its model: the file must not claim another one.
    replaceFile(file, original);
    complain(`the agent (pid ${pid}) refused ${dir}: ${answer.refused.error}; it keeps running ${answer.name}; ${file} is restored`);
    return EXIT_MODEL;
  }
  if (before && same(before.models, models) && !before.refused) say(`the agent (pid ${pid}) already runs ${answer.name}`);
  else say(`the agent (pid ${pid}) switched to ${answer.name} without a restart; visits and events continued`);
  return 0;
}

/** No answer on the control socket: no agent runs there, or one that cannot be reached (says how to reload it). */
async function unreachable(err: NodeJS.ErrnoException, stateDir: string, name: string, dir: string, wait: number): Promise<number> {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
    const holder = await lockHolder(stateDir);
    if (holder === null) {
      say(`no agent runs on ${stateDir}: it uses ${name} at its next start`);
      return 0;
    }
    complain(
      `an agent (pid ${holder || '?'}) holds ${stateDir} but has no control socket; reload it with "systemctl reload percept" (the config names ${dir})`,
    );
    return EXIT_NO_ANSWER;
  }
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    complain(
      `cannot reach the agent's control socket in ${stateDir} (${err.code}); run as its user or root, or "systemctl reload percept"; the config names ${dir}`,
    );
    return 1;
  }
  const why = err.code === 'ETIMEDOUT' ? `did not confirm the switch within ${wait} s` : `did not answer (${err.code ?? err.message})`;
  complain(`the agent ${why}; its log says why (the config names ${dir})`);
  return EXIT_NO_ANSWER;
}
