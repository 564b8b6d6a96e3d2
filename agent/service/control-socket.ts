// The agent's control channel: a unix socket in the state directory (`control.sock`, mode 0600), made by
// the process that holds the directory's lock, so whoever answers on it is the agent of that directory —
// unlike a pid read from a file, which may have been reused by any other program. `percept models use`
// asks it to reload (what SIGHUP does) and gets the outcome of the model switch back. The file system is
// the access control: only the agent's user (and root) can reach a socket in its private state directory.
//
// Protocol: one JSON line each way. Request {"op":"reload"}; answer {"ok":true,"pid":N,"result":…} or
// {"ok":false,"error":"…"}. A request is at most 1 KB and must arrive within 5 s.
import { chmodSync, existsSync, rmdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { checkStateDir } from '../lib/state-dir.js';
import type { Logger } from '../lib/logging.js';
import { acquireInstanceLock, type InstanceLock } from '../lib/instance-lock.js';
import { ModelSwitchFeature } from '../features/model-switch.js';
import { RemoteConfigFeature } from '../features/remote-config.js';
import type { Feature } from '../features/feature.js';
import { EXIT_CONFIG } from '../lib/exit-codes.js';

export const CONTROL_SOCKET = 'control.sock';
const MAX_REQUEST = 1024;
const REQUEST_TIMEOUT_MS = 5000;

export interface ControlHandlers {
  /** Reloads the config file (as SIGHUP does); resolves with what it changed and the model switch's outcome, rejects with a ReloadRefused. */
  reload(): Promise<ReloadAnswer>;
}

/** What a reload led to: the config keys it changed, and the model switch's outcome (null: no model switch feature). */
export interface ReloadAnswer {
  config: { file: string | null; applied: string[]; restartRequired: string[] } | null;
  models: unknown;
}

/** The file was refused (nothing changed): answered with EX_CONFIG so `percept reload`, and so `systemctl reload`, fail. */
export class ReloadRefused extends Error {
  readonly exitCode = EXIT_CONFIG;
}

/**
 * The agent's first step: the state directory checked (StateDirError, exit 73, when it can never work; a
 * full disk runs degraded) and locked (73 when another agent holds it), before any model or camera opens.
 * A directory made here and still empty at release (a start that failed on a bad model) is removed again:
 * bad input leaves nothing behind.
 */
export async function lockStateDir(stateDir: string, log: Logger): Promise<InstanceLock> {
  const made = !existsSync(stateDir);
  checkStateDir(stateDir);
  const lock = await acquireInstanceLock(stateDir, process.pid, log);
  return {
    dir: lock.dir,
    release: async () => {
      await lock.release();
      if (made)
        try {
          rmdirSync(stateDir); // only when empty
        } catch {
          /* it holds state: kept */
        }
    },
  };
}

/**
 * A reload (what SIGHUP does) that answers with its verdict: the file refused (nothing changed), or the
 * keys it changed and, once known, the model switch's outcome. Without a remote-config feature (a config
 * built in code) `fallback` reloads and there is no verdict on the file.
 */
export function reloadHandlers(fallback: () => void, features: readonly Feature[]): ControlHandlers {
  const models = features.find((f): f is ModelSwitchFeature => f instanceof ModelSwitchFeature);
  const remote = features.find((f): f is RemoteConfigFeature => f instanceof RemoteConfigFeature);
  return {
    reload: async () => {
      let config: ReloadAnswer['config'] = null;
      if (remote) {
        const r = remote.reloadFile();
        const file = remote.fileName;
        if (!r.ok)
          throw new ReloadRefused(
            `${file ?? 'the config file'} refused, nothing changed: ${r.errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')}`,
          );
        config = { file, applied: r.applied, restartRequired: r.restartRequired };
      } else fallback();
      if (!models) return { config, models: null };
      await models.settled();
      return { config, models: models.outcome() };
    },
  };
}

export interface ControlAnswer {
  ok: boolean;
  pid?: number;
  result?: unknown;
  error?: string;
  /** With ok false: the exit code the asking command should end with (78: the config file was refused). */
  exitCode?: number;
}

export class ControlSocket {
  private constructor(
    private readonly server: Server,
    readonly path: string,
  ) {}

  /**
   * Listens on `stateDir`/control.sock. The caller holds the directory's lock, so a socket file left there
   * is a dead agent's and is replaced. Null (and a warning) when it cannot be made: the agent then runs
   * without it, and SIGHUP or `systemctl reload` still reload it.
   */
  static async start(stateDir: string, handlers: ControlHandlers, log: Logger): Promise<ControlSocket | null> {
    const path = join(stateDir, CONTROL_SOCKET);
    const server = createServer((c) => serve(c, handlers));
    server.maxConnections = 4;
    try {
      rmSync(path, { force: true });
      await new Promise<void>((res, rej) => {
        server.once('error', rej);
        server.listen({ path }, () => {
          server.off('error', rej);
          res();
        });
      });
      chmodSync(path, 0o600);
    } catch (err) {
      server.close();
      log.warn(
        `no control socket at ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): "percept models use" cannot reach this agent; reload it with SIGHUP or "systemctl reload percept"`,
      );
      return null;
    }
    server.unref();
    server.on('error', (err) => log.warn(`control socket: ${err.message}`));
    return new ControlSocket(server, path);
  }

  async close(): Promise<void> {
    await new Promise<void>((res) => this.server.close(() => res()));
    rmSync(this.path, { force: true });
  }
}

function serve(c: Socket, handlers: ControlHandlers): void {
  let text = '';
  const answer = (a: ControlAnswer) => c.end(`${JSON.stringify({ ...a, pid: process.pid })}\n`);
  c.setEncoding('utf8');
  c.setTimeout(REQUEST_TIMEOUT_MS, () => c.destroy());
  c.on('error', () => undefined); // a client that went away
  c.on('data', (d: string) => {
    text += d;
    if (text.length > MAX_REQUEST) return void answer({ ok: false, error: `request longer than ${MAX_REQUEST} bytes` });
    const nl = text.indexOf('\n');
    if (nl < 0) return;
    c.pause();
    c.setTimeout(0);
    let op: unknown;
    try {
      op = (JSON.parse(text.slice(0, nl)) as { op?: unknown } | null)?.op;
    } catch {
      return void answer({ ok: false, error: 'not a JSON line' });
    }
    if (op !== 'reload') return void answer({ ok: false, error: `unknown op ${JSON.stringify(op)}; known: reload` });
    handlers.reload().then(
      (result) => answer({ ok: true, result }),
      (err: Error) => answer({ ok: false, error: err.message, ...(err instanceof ReloadRefused ? { exitCode: err.exitCode } : {}) }),
    );
  });
}

/** Sends one request to the agent on `stateDir`. Rejects with the errno (ENOENT, ECONNREFUSED: no agent; EACCES: not its user) or a timeout. */
export function askAgent(stateDir: string, op: string, timeoutMs: number): Promise<ControlAnswer> {
  return new Promise((res, rej) => {
    const sock = connect({ path: join(stateDir, CONTROL_SOCKET) });
    let text = '';
    const timer = setTimeout(() => {
      sock.destroy();
      rej(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ op })}\n`));
    sock.on('data', (d: string) => {
      text += d;
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        res(JSON.parse(text) as ControlAnswer);
      } catch {
        rej(new Error(`the agent's answer is not JSON: ${JSON.stringify(text.slice(0, 80))}`));
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
  });
}
