// A real mosquitto broker on a free loopback port, started and stopped by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './wait.js';
import { tempDir } from './temp.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const listening = () =>
    new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1', () => {
        c.end();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
  await waitFor(listening, timeoutMs, `mosquitto to listen on ${port}`);
}

export interface Broker {
  port: number;
  url: string;
  dir: string;
  stop(): Promise<void>;
  /** Freezes the broker (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  resume(): void;
}

/** Every broker still running: killed when the test process exits, so a failed test cannot leave one. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export interface BrokerOptions {
  /** Reuse a port (restart a broker where clients expect it). */
  port?: number;
  /** Reuse a directory (its persistence file survives a restart). */
  dir?: string;
  /** Replaces the default `allow_anonymous true` listener options. */
  auth?: string;
  /** Keep sessions and queued messages across restarts. */
  persistence?: boolean;
}

export async function startMosquitto(extraConfig = '', opts: BrokerOptions = {}): Promise<Broker> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? tempDir('percept-mosquitto-');
  const conf = join(dir, 'mosquitto.conf');
  const persistence = opts.persistence ? `persistence true\npersistence_location ${dir}/\nautosave_interval 1\n` : 'persistence false\n';
  // user root: the broker must be able to write its persistence file in the test's private directory.
  writeFileSync(
    conf,
    `user root\nper_listener_settings false\nlistener ${port} 127.0.0.1\n${opts.auth ?? 'allow_anonymous true'}\n${persistence}${extraConfig}\n`,
  );
  const proc: ChildProcess = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(proc);
  // A broker a failed test did not stop must not keep the test file alive (the run would hang to its limit).
  proc.unref();
  (proc.stderr as unknown as { unref?: () => void }).unref?.();
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      running.delete(proc);
      resolve();
    }),
  );
  try {
    await Promise.race([
      waitForPort(port, 5000),
      exited.then(() => {
        throw new Error(`mosquitto exited: ${stderr}`);
      }),
    ]);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return {
    port,
    dir,
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode === null) {
        proc.ref(); // awaited now: its exit must keep the test alive
        proc.kill('SIGCONT'); // a paused broker would not act on SIGTERM
        proc.kill('SIGTERM');
        await exited;
      }
    },
    pause() {
      proc.kill('SIGSTOP');
    },
    resume() {
      proc.kill('SIGCONT');
    },
  };
}
