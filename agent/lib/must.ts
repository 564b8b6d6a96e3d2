// For a lookup the code believes cannot miss (a model's named output, a map entry filled just before):
// if it does, a clear error naming what was missing beats an `undefined` that fails three calls later.

/** `value`, or an error saying `what` was missing. */
export function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`${what} is missing`);
  return value;
}

/** The first line of a (possibly multi-line) message: split always yields at least one element. */
export function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end < 0 ? text : text.slice(0, end);
}
