// scripts/arm64/run.sh in CI: its dry run (the full run takes an hour under qemu and is run on demand,
// docs/arm64.md). The step list in order, markers skipping done steps, --from and a moved HEAD redoing
// steps, a lost root making its markers stale — and nothing heavy run: apt-get, debootstrap, chroot,
// mount, npm and node are replaced on PATH by stubs that record any call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../helpers/models.js';

const SCRIPT = join(PACKAGE_ROOT, 'scripts/arm64/run.sh');
const STEPS = [
  'host-packages',
  'binfmt',
  'debootstrap',
  'root-packages',
  'checkout',
  'setup',
  'host-build',
  'clip',
  'run-x86',
  'run-arm64',
  'compare',
  'demo-arm64',
  'deb-arm64',
];
const HEAVY = ['apt-get', 'debootstrap', 'chroot', 'mount', 'umount', 'update-binfmts', 'npm', 'npx', 'node', 'dpkg-deb'];
const HEAD = spawnSync('git', ['-C', PACKAGE_ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim();

let dir: string;
let root: string;
let state: string;
let stubs: string;
let calls: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'percept-arm64-'));
  stubs = join(dir, 'stubs');
  calls = join(dir, 'calls.log');
  mkdirSync(stubs);
  for (const name of HEAVY) {
    writeFileSync(join(stubs, name), `#!/bin/sh\necho "${name} $*" >> '${calls}'\nexit 1\n`);
    chmodSync(join(stubs, name), 0o755);
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh root and state directory per test, so markers of one do not leak into the next. */
function fresh(name: string) {
  root = join(dir, name, 'root');
  state = join(dir, name, 'state');
}

/** The dry run's verdict per step: "run" | "skip" | "check". */
function dryRun(...args: string[]): { status: number | null; verdicts: Map<string, string>; out: string } {
  const r = spawnSync('bash', [SCRIPT, '--dry-run', ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${stubs}:${process.env.PATH}`, PERCEPT_ARM64_ROOT: root, PERCEPT_ARM64_STATE: state },
  });
  const verdicts = new Map<string, string>();
  for (const m of r.stderr.matchAll(/\] ([a-z0-9-]+): (would run|done before|would check)/g)) {
    verdicts.set(m[1]!, m[2] === 'would run' ? 'run' : m[2] === 'would check' ? 'check' : 'skip');
  }
  return { status: r.status, verdicts, out: r.stderr };
}

function mark(...steps: string[]) {
  mkdirSync(join(state, 'markers'), { recursive: true });
  for (const s of steps) {
    writeFileSync(join(state, 'markers', `${s}.done`), `seconds=1\nfinished=2026-12-06T00:00:00Z\ncommit=${HEAD}\n`);
  }
}
/** A root that looks debootstrapped (the script checks for its apt-get). */
function fakeRoot() {
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  writeFileSync(join(root, 'usr/bin/apt-get'), '');
  chmodSync(join(root, 'usr/bin/apt-get'), 0o755);
}
const heavyCalls = () => (existsSync(calls) ? readFileSync(calls, 'utf8') : '');

test('a first dry run lists every step in order, would run each, and creates and runs nothing', () => {
  fresh('first');
  const r = dryRun();
  assert.equal(r.status, 0, r.out);
  assert.deepEqual([...r.verdicts.keys()], STEPS);
  assert.deepEqual(
    [...r.verdicts.values()],
    STEPS.map((s) => (s === 'binfmt' ? 'check' : 'run')),
  );
  assert.match(r.out, /debootstrap --arch=arm64 --variant=minbase trixie /);
  assert.match(r.out, /setup\.sh --for demo inside the root/);
  assert.equal(existsSync(root), false, 'the dry run made the root');
  assert.equal(existsSync(state), false, 'the dry run made the state directory');
  assert.equal(heavyCalls(), '', 'the dry run called a heavy tool');
});

test('done steps are skipped; the first step not done and every later one would run', () => {
  fresh('resume');
  fakeRoot();
  mark('host-packages', 'debootstrap', 'root-packages', 'checkout', 'clip');
  const r = dryRun();
  assert.equal(r.status, 0, r.out);
  for (const s of ['host-packages', 'debootstrap', 'root-packages', 'checkout']) assert.equal(r.verdicts.get(s), 'skip', s);
  // clip has a marker, but setup runs before it and replaces what it was made from.
  for (const s of ['setup', 'host-build', 'clip', 'deb-arm64']) assert.equal(r.verdicts.get(s), 'run', s);
  assert.equal(readdirSync(join(state, 'markers')).length, 5, 'the dry run removed a marker');
  assert.equal(heavyCalls(), '');
});

test('--from STEP redoes that step and the ones after it; an unknown step is refused naming the steps', () => {
  fresh('from');
  fakeRoot();
  mark(...STEPS.filter((s) => s !== 'binfmt'));
  const all = dryRun();
  assert.deepEqual(
    [...all.verdicts.entries()].filter(([, v]) => v === 'run'),
    [],
    'everything is done',
  );
  const r = dryRun('--from', 'run-arm64');
  assert.equal(r.status, 0, r.out);
  assert.equal(r.verdicts.get('run-x86'), 'skip');
  for (const s of ['run-arm64', 'compare', 'demo-arm64', 'deb-arm64']) assert.equal(r.verdicts.get(s), 'run', s);
  assert.equal(readdirSync(join(state, 'markers')).length, STEPS.length - 1, 'the dry run removed a marker');
  const bad = dryRun('--from', 'nonsense');
  assert.notEqual(bad.status, 0);
  assert.match(bad.out, /no step 'nonsense': the steps are host-packages binfmt debootstrap/);
  assert.equal(heavyCalls(), '');
});

test('a root copied from another commit redoes the checkout; a root that is gone makes its markers stale', () => {
  fresh('moved');
  fakeRoot();
  mark(...STEPS.filter((s) => s !== 'binfmt'));
  writeFileSync(join(state, 'markers/checkout.done'), 'seconds=1\nfinished=2026-12-06T00:00:00Z\ncommit=0000000\n');
  const moved = dryRun();
  assert.match(moved.out, /checkout: the root has 0000000, HEAD is/);
  assert.equal(moved.verdicts.get('root-packages'), 'skip');
  assert.equal(moved.verdicts.get('checkout'), 'run');
  assert.equal(moved.verdicts.get('compare'), 'run');

  rmSync(root, { recursive: true });
  const gone = dryRun();
  assert.match(gone.out, /has no userland: its markers are stale/);
  assert.equal(gone.verdicts.get('host-packages'), 'skip');
  assert.equal(gone.verdicts.get('debootstrap'), 'run');
  assert.equal(heavyCalls(), '');
});
