// What keeps the preview a local tool that a web page cannot read or a crowd of sockets cannot exhaust.
//
// Host: a page from anywhere can make the kiosk's own browser send requests to 127.0.0.1:8089 (an <img>),
// and with DNS rebinding (its own name re-pointed at 127.0.0.1) read the answers as same-origin. Such a
// request still carries the page's name in Host, which the page cannot forge: so only names that can
// never belong to an attacker are answered — localhost, 127.x.x.x and [::1], with any port (an ssh -L
// tunnel's local port differs from ours). With preview.allowNonLoopback on a non-loopback bind, two more:
// preview.host as configured (the operator chose that name or address) and the very IP address the
// connection arrived at (what a LAN client types for a wildcard bind such as 0.0.0.0; an IP literal
// cannot be rebound, a page addressed by IP is that address's own origin).
//
// Connections: at most MAX_CONNECTIONS sockets at once; one more is answered 503 and closed at once.
// Readers: a stream gets a new frame only once its previous one left the process (so at most one frame
// waits in memory per viewer); a viewer whose frame has not left for STALL_MS is disconnected with a
// reset, which also frees the kernel's socket buffers instead of leaving them full until a timeout.
import { isIP } from 'node:net';
import { isLoopbackHost, unmapped } from '../lib/loopback.js';

export { isLoopbackHost };

/** Sockets served at once; the page, a snapshot and a stream are three, so a few viewers fit. */
export const MAX_CONNECTIONS = 8;
/** A viewer that has not taken one frame in this long is gone or stuck. */
export const STALL_MS = 5000;

/** The raw reply to a connection over the cap: the HTTP parser has not even seen a request yet. */
export const BUSY_RESPONSE =
  'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\nRetry-After: 5\r\nContent-Length: 44\r\n\r\n' +
  'preview busy: too many connections at once\r\n';

/** The host part of a Host header (lower case, IPv6 without brackets), or null when it is not one. */
export function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const h = header.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (v6) return isIP(v6[1]!) === 6 ? v6[1]! : null;
  const m = /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(h);
  return m ? m[1]! : null;
}

export interface HostRule {
  /** preview.host */
  bindHost: string;
  allowNonLoopback: boolean;
}

/** Whether a request with this Host header, arriving at `localAddress`, may be answered. */
export function hostAllowed(header: string | undefined, rule: HostRule, localAddress: string | undefined): boolean {
  const host = hostOf(header);
  if (host === null) return false;
  if (isLoopbackHost(host)) return true;
  if (!rule.allowNonLoopback || isLoopbackHost(rule.bindHost)) return false;
  if (host === rule.bindHost.toLowerCase().replace(/^\[|\]$/g, '')) return true;
  return isIP(host) !== 0 && localAddress !== undefined && unmapped(host) === unmapped(localAddress);
}
