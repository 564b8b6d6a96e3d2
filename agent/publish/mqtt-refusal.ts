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
]);

/** Why a broker refused a connection (TLS, CONNACK codes of MQTT 3.1.1 and 5), with the key to fix; null for other errors. */
export function refusal(err: Error & { code?: number | string }): string | null {
  const code = err.code;
  if (typeof code === 'string' && TLS_CODES.has(code))
    return `its TLS certificate does not verify (${err.message}; check mqtt.tls.ca, or the broker's certificate names this host)`;
  if (code === 4 || code === 134) return 'bad user name or password (check mqtt.username and mqtt.password / passwordFile)';
  if (code === 5 || code === 135) return 'not authorized (check mqtt.username and the broker ACL)';
  if (code === 2 || code === 133) return 'client id rejected (set mqtt.clientId)';
  return null;
}
