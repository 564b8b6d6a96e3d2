// sd_notify for a Type=notify unit: READY=1 once everything is up, WATCHDOG=1 driven by the pipeline's
// own heartbeat, STATUS= lines, RELOADING=1 and STOPPING=1. Node has no datagram sockets, hence the
// small native `unix-dgram` module; without NOTIFY_SOCKET (not under systemd) every call is a no-op.
import { createRequire } from 'node:module';
import type { UnixDgramSocket } from 'unix-dgram';

const require = createRequire(import.meta.url);

/** Decides whether the service is alive: progress (a frame processed, a reconnect attempt) must be recent. */
export class Heartbeat {
  private last: number;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.last = now();
  }

  beat(): void {
    this.last = this.now();
  }

  alive(): boolean {
    return this.now() - this.last <= this.windowMs;
  }
}

export class SdNotifier {
  private socket: UnixDgramSocket | null = null;
  private readonly path: string | null;
  private timer: NodeJS.Timeout | null = null;
  /** systemd's watchdog period (WATCHDOG_USEC), ms; 0 when the unit has none. */
  readonly watchdogMs: number;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const raw = env.NOTIFY_SOCKET;
    // An abstract socket is written with a leading '@' in the environment.
    this.path = raw ? (raw.startsWith('@') ? `\0${raw.slice(1)}` : raw) : null;
    const usec = Number(env.WATCHDOG_USEC ?? 0);
    const forPid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) === process.pid : true;
    this.watchdogMs = usec > 0 && forPid ? usec / 1000 : 0;
  }

  get enabled(): boolean {
    return this.path !== null;
  }

  send(state: string): void {
    if (!this.path) return;
    // systemd stops watching once told STOPPING=1; a ping after it would only confuse readers of the socket.
    if (state === 'STOPPING=1' && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    if (!this.socket) {
      const dgram = require('unix-dgram') as typeof import('unix-dgram');
      this.socket = dgram.createSocket('unix_dgram');
      this.socket.on('error', () => undefined);
    }
    const buf = Buffer.from(state);
    this.socket.send(buf, 0, buf.length, this.path);
  }

  /** Pings WATCHDOG=1 at half systemd's period while `alive()` holds; a stall or a blocked loop stops them. */
  startWatchdog(alive: () => boolean): void {
    if (!this.watchdogMs || !this.path) return;
    this.timer = setInterval(
      () => {
        if (alive()) this.send('WATCHDOG=1');
      },
      Math.max(100, this.watchdogMs / 2),
    );
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.socket?.close();
    this.socket = null;
  }
}
