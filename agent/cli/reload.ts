// percept reload: the running agent re-reads its config file (what SIGHUP does) and says whether it took
// it. This is the unit's ExecReload=, so `systemctl reload percept` fails when the agent refuses the new
// file instead of succeeding while nothing changed (systemd 252 has no Type=notify-reload to wait for).
import { resolve } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { loadConfig, SYSTEM_CONFIG } from '../config/load.js';
import { lockHolder } from '../lib/instance-lock.js';
import { defaultStateDir } from '../lib/state-dir.js';
import { askAgent, type ControlAnswer, type ReloadAnswer } from '../service/control-socket.js';
import { EXIT_NO_ANSWER, exitCodeFor } from '../lib/exit-codes.js';

export interface ReloadArgs {
  config?: string;
  stateDir?: string;
  wait: number;
}

const say = (m: string) => process.stdout.write(`percept reload: ${m}\n`);
const complain = (m: string) => process.stderr.write(`percept reload: ${m}\n`);

function stateDirOf(a: ReloadArgs): string {
  if (a.stateDir) return resolve(a.stateDir);
  // Only state.dir is wanted here; a file the agent would refuse is the agent's to report.
  const loaded = loadConfig({ file: a.config ?? SYSTEM_CONFIG, overrides: {}, readOverrides: false });
  return loaded.config.state.dir || defaultStateDir();
}

function describe(answer: ReloadAnswer): string {
  const c = answer.config;
  const parts = c
    ? [
        `${c.file ?? 'the config'}: applied ${c.applied.join(', ') || 'nothing (no change)'}`,
        ...(c.restartRequired.length ? [`needs a restart: ${c.restartRequired.join(', ')}`] : []),
      ]
    : ['reloaded'];
  const m = answer.models as { name?: string; refused?: { error: string } } | null;
  if (m?.refused) parts.push(`model refused (${m.refused.error}); it keeps ${m.name ?? 'its model'}`);
  else if (m?.name) parts.push(`model ${m.name}`);
  return parts.join('; ');
}

export async function reloadCommand(a: ReloadArgs): Promise<number> {
  let stateDir: string;
  try {
    stateDir = stateDirOf(a);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    complain(`${err.message}\n(the state directory is read from it; or pass --state-dir)`);
    return exitCodeFor(err);
  }
  let reply: ControlAnswer;
  try {
    reply = await askAgent(stateDir, 'reload', a.wait * 1000);
  } catch (err) {
    return unreachable(err as NodeJS.ErrnoException, stateDir, a.wait);
  }
  if (!reply.ok) {
    complain(`the agent (pid ${reply.pid ?? '?'}) ${reply.error ?? 'refused the reload'}`);
    return reply.exitCode ?? 1;
  }
  say(`the agent (pid ${reply.pid ?? '?'}) reloaded — ${describe(reply.result as ReloadAnswer)}`);
  return 0;
}

/** No control socket: under systemd the unit's main process is the proven agent, so SIGHUP goes there (without a verdict). */
async function unreachable(err: NodeJS.ErrnoException, stateDir: string, wait: number): Promise<number> {
  const mainPid = Number(process.env.MAINPID);
  if ((err.code === 'ENOENT' || err.code === 'ECONNREFUSED') && Number.isInteger(mainPid) && mainPid > 1) {
    process.kill(mainPid, 'SIGHUP');
    say(`no control socket in ${stateDir}: sent SIGHUP to the unit's main process ${mainPid}; its log says whether it took the file`);
    return 0;
  }
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
    const holder = await lockHolder(stateDir);
    complain(holder === null ? `no agent runs on ${stateDir}` : `an agent (pid ${holder || '?'}) holds ${stateDir} but has no control socket; send it SIGHUP`);
    return EXIT_NO_ANSWER;
  }
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    complain(`cannot reach the agent's control socket in ${stateDir} (${err.code}); run as its user or root, or "systemctl reload percept"`);
    return 1;
  }
  complain(err.code === 'ETIMEDOUT' ? `the agent did not answer within ${wait} s; its log says why` : `the agent did not answer (${err.code ?? err.message})`);
  return EXIT_NO_ANSWER;
}
