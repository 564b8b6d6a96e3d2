// The agent's CPU time, all its processes: this process (every thread: onnxruntime's, the inference
// workers', libuv's — process.cpuUsage() is getrusage(RUSAGE_SELF)), the capture processes alive now
// (/proc/<pid>/stat utime + stime) and the capture processes that have ended (/proc/self/stat cutime +
// cstime: a child's time moves there when Node reaps it, the moment it leaves the live set, so a
// restarted capture process is neither lost nor counted twice). Without /proc (not Linux): this process only.
import { readFileSync } from 'node:fs';
import { capturePids } from '../capture/capture-client.js';

/** Clock ticks per second in /proc/<pid>/stat: USER_HZ, 100 on every Linux ABI Node runs on. */
const TICKS_PER_S = 100;

/** utime+stime (fields 14, 15) and cutime+cstime (16, 17) of /proc/<pid>/stat, ms; null when unreadable. */
function procTimes(pid: number | 'self'): { own: number; children: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // gone between the listing and the read, or no /proc
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ms = (i: number) => (Number(f[i - 3]) * 1000) / TICKS_PER_S;
  return { own: ms(14) + ms(15), children: ms(16) + ms(17) };
}

/** CPU ms used so far by the agent's processes (see the file comment). */
export function agentCpuMs(): number {
  const u = process.cpuUsage();
  let ms = (u.user + u.system) / 1000;
  ms += procTimes('self')?.children ?? 0;
  for (const pid of capturePids()) ms += procTimes(pid)?.own ?? 0;
  return ms;
}

/** CPU ms only of the capture processes alive now (bench --live's decode floor). */
export function captureCpuMs(): number {
  return capturePids().reduce((a, pid) => a + (procTimes(pid)?.own ?? 0), 0);
}

export interface CpuSample {
  wallMs: number;
  cpuMs: number;
}

export function cpuSample(): CpuSample {
  return { wallMs: performance.now(), cpuMs: agentCpuMs() };
}

/** Percent of ONE core between two samples: 2 cores fully busy is 200. */
export function cpuPercent(from: CpuSample, to: CpuSample): number {
  const wall = to.wallMs - from.wallMs;
  if (wall <= 0) return 0;
  return Math.round(Math.max(0, (to.cpuMs - from.cpuMs) / wall) * 1000) / 10;
}

/** cpuPercent since the previous reading (the first: since the meter was made, i.e. since start). */
export class CpuMeter {
  private last = cpuSample();

  sinceLast(): number {
    const now = cpuSample();
    const p = cpuPercent(this.last, now);
    this.last = now;
    return p;
  }
}
