// docs/config-reference.md, generated from the config schema (agent/config/schema*.ts): every key with its
// type, default, whether it applies at once and whether a remote patch may set it, and its environment
// variable. npm run gen writes it; a unit test fails when it is stale.
import { KEYS } from '../../agent/config/keys.js';
import { ENV_KEYS } from '../../agent/config/load.js';
import { cell, plain, typeOf, type Node } from './schema-table.js';

const HEADER = `# Configuration reference

<!-- Generated from agent/config/schema*.ts by \`npm run gen\` (scripts/docs/config-doc.ts): do not edit by hand. -->

Every key of \`/etc/percept/percept.yaml\` (\`config/percept.yaml\` in a checkout holds them all with comments).
How the layers, validation and remote patches work: [configuration.md](configuration.md).

- **hot**: a running agent applies it at once (remote patch or \`systemctl reload percept\`); otherwise at the next restart.
- **remote**: a \`config/set\` patch may set it; other keys only if the local file lists them in \`remoteConfig.allow\`.
- **environment**: every key except maps can also be set as this variable (arrays comma-separated).
`;

const shown = (v: unknown) => (v === undefined ? '' : `\`${JSON.stringify(v)}\``);

export function configDoc(): string {
  const env = new Map(ENV_KEYS.map((e) => [e.path.join('.'), e.name]));
  const sections = new Map<string, string[]>();
  for (const k of KEYS) {
    const n = plain(k.schema);
    const section = k.segments[0]!;
    const row = `| \`${k.path}\` | ${typeOf(n as Node)} | ${shown(n.default)} | ${k.hot ? 'yes' : ''} | ${k.remote ? 'yes' : ''} | ${env.has(k.path) ? `\`${env.get(k.path)}\`` : ''} | ${cell(n.description ?? '')} |`;
    sections.set(section, [...(sections.get(section) ?? []), row]);
  }
  const body = [...sections].map(
    ([s, r]) => `## ${s}\n\n| key | type | default | hot | remote | environment | meaning |\n|---|---|---|---|---|---|---|\n${r.join('\n')}\n`,
  );
  const version =
    '## version\n\nOptional top-level `version` (absent: 1): older files and stored overrides are migrated in memory (the file under `/etc` is never rewritten); a newer version is refused.\n';
  return `${HEADER}\n${version}\n${body.join('\n')}`;
}
