// The one redaction function for everything that leaves the process: the retained config, status,
// stats, `config print` and log lines. It removes the password of any URL's userinfo
// (mqtt://user:secret@host, rtsp://admin:pw@camera), secret-looking query parameters
// (?password=…, &token=…), and the values of secret keys (password, passwordFile, TLS key paths…).
// Hand-written: a redaction library would not know this config's keys, and the URL rules are three
// regular expressions.

export const REDACTED = '***';

/** Keys whose values are secrets (or point at one), wherever they appear. */
const SECRET_KEY = /^(password|passwordfile|passwd|passphrase|secret|token|apikey|privatekey|accesstoken|clientsecret)$/i;
/** Keys that are secrets only under a parent of this name: the TLS private key path. */
const SECRET_UNDER: Record<string, RegExp> = { tls: /^(key|pfx|passphrase)$/i };

// scheme://userinfo@ — the userinfo runs up to the last "@" before the authority ends (whitespace,
// quote, "/", "?" or "#"), so a password with an unencoded "@" is still covered whole.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>/?#@]*@)+/gi;
const QUERY_SECRET = /([?&;](?:password|passwd|pwd|pass|token|secret|key|apikey|api_key|auth|access_token)=)[^&#\s"'<>]*/gi;

function redactUserinfo(match: string, scheme: string): string {
  const userinfo = match.slice(scheme.length, -1);
  const colon = userinfo.indexOf(':');
  // A user name alone (no password) is kept: it tells the operator which account is used.
  if (colon < 0) return match;
  return `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@`;
}

/** A string with every URL password and secret query parameter replaced by ***. */
export function redactText(text: string): string {
  if (!text.includes('://') && !text.includes('=')) return text;
  return text.replace(URL_USERINFO, redactUserinfo).replace(QUERY_SECRET, `$1${REDACTED}`);
}

function isSecretKey(key: string, parent: string | undefined): boolean {
  if (SECRET_KEY.test(key)) return true;
  const under = parent === undefined ? undefined : SECRET_UNDER[parent.toLowerCase()];
  return !!under && under.test(key);
}

function walk(value: unknown, key: string | undefined, parent: string | undefined, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') {
    // An empty secret stays empty: it shows the key is unset, which is not a secret.
    if (key !== undefined && value !== '' && isSecretKey(key, parent)) return REDACTED;
    return redactText(value);
  }
  if (value instanceof Error) return redactText(value.message);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, key, parent, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = typeof v === 'string' && v !== '' && isSecretKey(k, key) ? REDACTED : walk(v, k, key, seen);
  }
  return out;
}

/**
 * A copy of `value` safe to publish or log: strings have URL passwords and secret query parameters
 * removed; object keys that hold secrets (password, passwordFile, tls.key, token…) are replaced by ***.
 * Plain data in, plain data out (class instances come back as plain objects).
 */
export function redact<T>(value: T): T {
  return walk(value, undefined, undefined, new WeakSet()) as T;
}
