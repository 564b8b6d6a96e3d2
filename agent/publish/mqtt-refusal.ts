// Why a broker refused a connection, in words that name the setting to fix (shared by the publisher and
// `percept doctor`).
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'UNABLE_TO_GET_ISSUER_CERT',
]);

/** Why a broker refused a connection (TLS, CONNACK codes of MQTT 3.1.1 and 5), with the key to fix; null for other errors. */
export function refusal(err: Error & { code?: number | string }): string | null {
  const code = err.code;
  if (typeof code === 'string' && TLS_CODES.has(code))
    return `its TLS certificate does not verify (${err.message}; check mqtt.tls.ca, or the broker's certificate names this host)`;
  if (code === 4 || code === 134) return 'bad user name or password (check mqtt.username and mqtt.password / passwordFile)';
  // Mosquitto answers a wrong password with "not authorised" (5) under MQTT 3.1.1: both are named.
  if (code === 5 || code === 135) return 'not authorised (check mqtt.username and mqtt.password / passwordFile, then the broker ACL)';
  if (code === 2 || code === 133) return 'client id rejected (set mqtt.clientId)';
  return null;
}

/**
 * Why a broker could not be reached at all (the socket or TLS layer, before any CONNACK), with what to
 * check; the error's own message when it is none of the usual causes.
 */
export function unreachableCause(err: Error & { code?: number | string }, url: string): string {
  const host = hostOf(url);
  switch (err.code) {
    case 'ECONNREFUSED':
      return `connection refused: is the broker running at ${url}? (check mqtt.url; leave it empty for the embedded broker)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name ${host} does not resolve (check mqtt.url and this machine's DNS)`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no answer from ${host} (${String(err.code)}: check the network, a firewall, and the port in mqtt.url)`;
    case 'ECONNRESET':
      return `${host} closed the connection at once (mqtts:// to a plain port, or the broker's connection limit? check mqtt.url)`;
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
      return `the port does not speak TLS (use mqtt:// for it, or the broker's TLS port, often 8883, in mqtt.url)`;
    case 'ENOENT':
    case 'EACCES':
      return `${err.message} (check the files named in mqtt.tls.ca, mqtt.tls.cert and mqtt.tls.key)`;
    default:
      return err.message || String(err.code ?? 'unknown error');
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname || url;
  } catch {
    return url;
  }
}

/**
 * What the publisher says as a connection attempt closes: the broker's refusal (one line per attempt: it
 * needs a fix on this side), or why it was unreachable — on the first attempt, every tenth, and whenever
 * the cause changes (a broker that comes up but refuses TLS), so a newcomer never waits ten attempts to
 * learn what is wrong. The error of an attempt comes before its 'close'.
 */
export class AttemptCauses {
  private refused: string | null = null;
  private unreachable: string | null = null;
  private logged: string | null = null;

  constructor(private readonly url: string) {}

  error(err: Error & { code?: number | string }): void {
    const why = refusal(err);
    if (why) this.refused = why;
    else this.unreachable = unreachableCause(err, this.url);
  }

  connected(): void {
    this.refused = this.unreachable = this.logged = null;
  }

  /** The line for the attempt now closing, or null when it is not worth one. */
  closing(attempt: number, delayMs: number, outboxDepth: number): { level: 'error' | 'warn'; line: string } | null {
    const { refused } = this;
    const cause = this.unreachable ?? 'the connection closed';
    this.refused = this.unreachable = null;
    if (refused) return { level: 'error', line: `broker ${this.url} refused the connection: ${refused}; retrying in ${delayMs} ms (attempt ${attempt})` };
    if (attempt !== 1 && attempt % 10 !== 0 && cause === this.logged) return null;
    this.logged = cause;
    const line = `broker ${this.url} unreachable (attempt ${attempt}); retrying in ${delayMs} ms; events wait in the outbox (${outboxDepth}): ${cause}`;
    return { level: 'warn', line };
  }
}
