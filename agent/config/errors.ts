// A configuration problem: every issue with its key path. Anything that ends in one exits 78 (sysexits
// EX_CONFIG), which systemd units and scripts tell apart from crashes and do not restart.

import { EXIT_CONFIG } from '../lib/exit-codes.js';

export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly exitCode = EXIT_CONFIG;

  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`invalid configuration (${source}):\n${issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
