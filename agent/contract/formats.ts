import { Type } from '@sinclair/typebox';

/** An ISO 8601 time (format date-time), optionally described. */
export const DateTime = (description?: string) => Type.String({ format: 'date-time', ...(description ? { description } : {}) });
