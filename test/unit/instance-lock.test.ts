// The state directory's lock (issue 20, item 2): held by a bound abstract unix socket, so the kernel
// releases it when its holder dies and no pid is ever trusted. A second holder is refused (exit 73) and
// told the holder's pid; a holder killed with SIGKILL leaves nothing stale; a leftover percept.lock naming
// any live process (pid 1, a `sleep`) does not stop anyone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireInstanceLock, lockHolder, lockName } from '../../agent/lib/instance-lock.js';
import { logLines } from '../helpers/log-lines.js';
import { StateDirError } from '../../agent/lib/state-dir.js';
import { tempDir } from '../helpers/temp.js';

const fresh = () => tempDir('percept-lock-');
const LOCK_MODULE = new URL('../../agent/lib/instance-lock.js', import.meta.url).href;

/** Another process holding `dir`'s lock, as another agent would. */
async function holderProcess(dir: string) {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(LOCK_MODULE)}); await m.acquireInstanceLock(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((res, rej) => {
    child.stdout.once('data', () => res());
    child.once('exit', (code) => rej(new Error(`holder exited ${code}`)));
  });
  return child;
}

test('a second holder is refused (StateDirError, exit 73) naming the holder pid; SIGKILL of the holder frees the lock', async () => {
  const dir = fresh();
  const other = await holderProcess(dir);
  try {
    assert.equal(await lockHolder(dir), other.pid);
    await assert.rejects(
      acquireInstanceLock(dir),
      (err: unknown) =>
        err instanceof StateDirError &&
        err.exitCode === 73 &&
        err.message.includes(`in use by another percept agent (pid ${other.pid})`) &&
        /own --state-dir/.test(err.message),
    );
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
  }
  // No clean-up ran: the kernel released the socket with the process.
  assert.equal(await lockHolder(dir), null);
  const lock = await acquireInstanceLock(dir);
  assert.equal(readFileSync(join(dir, 'percept.lock'), 'utf8'), `${process.pid}\n`, 'the pid file, for humans');
  await lock.release();
  assert.equal(await lockHolder(dir), null, 'released');
});

test('a stale percept.lock naming any live process (pid 1, a sleep) does not stop the agent', async () => {
  const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  await new Promise((r) => sleeper.once('spawn', r));
  try {
    for (const pid of [1, sleeper.pid!]) {
      const dir = fresh();
      writeFileSync(join(dir, 'percept.lock'), `${pid}\n`);
      const { log, lines } = logLines();
      const lock = await acquireInstanceLock(dir, process.pid, log);
      assert.match(lines.join('\n'), new RegExp(`warn: .*percept.lock named pid ${pid}, which no longer holds the lock; ignored`));
      await lock.release();
    }
    assert.equal(sleeper.exitCode, null, 'nothing was signalled');
  } finally {
    sleeper.kill('SIGKILL');
  }
});

test('the lock is the directory, not its spelling: a symlink to a held directory is held', async () => {
  const dir = fresh();
  const link = join(fresh(), 'link');
  symlinkSync(dir, link);
  assert.equal(lockName(link), lockName(dir));
  assert.equal(lockName(join(dir, 'not-yet', '..')), lockName(dir));
  const lock = await acquireInstanceLock(dir);
  try {
    await assert.rejects(acquireInstanceLock(link), StateDirError);
  } finally {
    await lock.release();
  }
});
