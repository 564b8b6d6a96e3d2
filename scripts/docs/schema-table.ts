// Renders a JSON Schema (as TypeBox writes it) as Markdown: one row per field, nested objects as dotted
// paths, array items as `[]`, maps as `{key}`. Used by the generated reference pages under docs/.

export interface Node {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: Node[];
  properties?: Record<string, Node>;
  patternProperties?: Record<string, Node>;
  additionalProperties?: boolean | Node;
  items?: Node | Node[];
  required?: string[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  format?: string;
  title?: string;
  [k: string]: unknown;
}

export interface Row {
  path: string;
  type: string;
  required: boolean;
  description: string;
}

/** A plain copy without TypeBox's symbol keys. */
export const plain = (schema: unknown): Node => JSON.parse(JSON.stringify(schema)) as Node;

const isObject = (n: Node) => n.type === 'object' && n.properties !== undefined;

/** A short type: `"online"`, `integer ≥ 0`, `string (date-time)`, `"a" \| "b"`, `map of integer`. */
export function typeOf(n: Node): string {
  if (n.const !== undefined) return JSON.stringify(n.const);
  if (n.enum) return n.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (n.anyOf) {
    const parts = n.anyOf.map(typeOf);
    return parts.length > 10 ? `${parts.slice(0, 10).join(' \\| ')} \\| …` : parts.join(' \\| ');
  }
  if (n.type === 'array') {
    if (Array.isArray(n.items)) return `[${n.items.map(typeOf).join(', ')}]`;
    return `array of ${n.items ? typeOf(n.items) : 'any'}`;
  }
  if (n.type === 'object' && n.properties) return `{${Object.keys(n.properties).join(', ')}}`;
  if (n.type === 'object' && n.patternProperties) {
    const v = Object.values(n.patternProperties)[0];
    return `map of ${v ? typeOf(v) : 'any'}`;
  }
  const base = Array.isArray(n.type) ? n.type.join(' \\| ') : (n.type ?? 'any');
  const range =
    n.minimum !== undefined && n.maximum !== undefined
      ? ` ${n.minimum}–${n.maximum}`
      : n.minimum !== undefined
        ? ` ≥ ${n.minimum}`
        : n.maximum !== undefined
          ? ` ≤ ${n.maximum}`
          : '';
  return `${base}${n.format ? ` (${n.format})` : ''}${range}`;
}

/** Every field of an object schema; a union of objects is flattened per member by the caller. */
/** `required`: the field is always there when its parent is (optional parents are marked themselves). */
export function rows(n: Node, prefix = ''): Row[] {
  const out: Row[] = [];
  for (const [k, v] of Object.entries(n.properties ?? {})) {
    const path = prefix ? `${prefix}.${k}` : k;
    const req = (n.required ?? []).includes(k);
    const objectMember = v.anyOf?.find(isObject);
    out.push({
      path,
      type: isObject(v) ? 'object' : objectMember ? typeOf({ ...v, anyOf: v.anyOf!.map((m) => (isObject(m) ? { type: 'object' } : m)) }) : typeOf(v),
      required: req,
      description: v.description ?? '',
    });
    if (isObject(v)) out.push(...rows(v, path));
    else if (objectMember) out.push(...rows(objectMember, path));
    else if (v.type === 'array' && v.items && !Array.isArray(v.items) && isObject(v.items)) out.push(...rows(v.items, `${path}[]`));
    else if (v.type === 'object' && v.patternProperties) {
      const inner = Object.values(v.patternProperties)[0];
      if (inner && isObject(inner)) out.push(...rows(inner, `${path}.{key}`));
    }
  }
  return out;
}

/** Markdown cells must not break the table, nor turn `<pipeline>` into an HTML tag. */
export const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function table(r: Row[]): string {
  const lines = ['| field | type | required | meaning |', '|---|---|---|---|'];
  for (const x of r) lines.push(`| \`${x.path}\` | ${x.type.replace(/(?<!\\)\|/g, '\\|')} | ${x.required ? 'yes' : ''} | ${cell(x.description)} |`);
  return lines.join('\n');
}
