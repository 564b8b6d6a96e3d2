// Loopback names and addresses, shared by the config check (preview.host) and the preview's Host guard.
import { isIP } from 'node:net';

/** The IPv4 address inside an IPv4-mapped IPv6 address (how a dual-stack socket reports IPv4 peers). */
export function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address.toLowerCase();
}

/** A loopback name or address: localhost, 127.0.0.0/8, ::1 (also as IPv4-mapped or written out). */
export function isLoopbackHost(host: string): boolean {
  const h = unmapped(host.replace(/^\[|\]$/g, ''));
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(h) && h.replace(/[:0]/g, '') === '1';
  return false;
}
