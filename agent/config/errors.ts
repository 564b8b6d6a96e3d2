// A configuration problem: every issue with its key path. Anything that ends in one exits 78 (sysexits
// EX_CONFIG), which systemd units and scripts tell apart from crashes and do not restart.

/** sysexits EX_CONFIG. */
export const EXIT_CONFIG = 78;

export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`invalid configuration (${source}):\n${issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
