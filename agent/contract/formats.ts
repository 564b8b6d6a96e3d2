import { Type } from '@sinclair/typebox';

/** An ISO 8601 time (format date-time), optionally described. */
export const DateTime = (description?: string) => Type.String({ format: 'date-time', ...(description ? { description } : {}) });

/** The contract version every payload names in `schema` (design §4); raised only when a release changes the contract. */
export const CONTRACT_SCHEMA = 1 as const;
export const SchemaField = () => Type.Literal(CONTRACT_SCHEMA, { description: 'The MQTT contract version of this payload.' });

// One meaning of `ts` across the contract, so an integrator can order and age messages from any topic the
// same way. Every other time in a payload has its own name (firstSeen, startedAt, frameTs, …).
export const TS_MEANING =
  "When the agent made this message (ISO 8601, UTC, the agent's wall clock). A record held in the outbox while the broker was away keeps the time it was made.";
export const Ts = () => DateTime(TS_MEANING);

/** The envelope of every payload the agent publishes (contract version, device id, `ts`). */
export const Envelope = () => ({ schema: SchemaField(), device: Type.String({ description: 'The device id (mqtt.deviceId or the host name).' }), ts: Ts() });
