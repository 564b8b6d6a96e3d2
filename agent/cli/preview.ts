// percept preview: where the running agent's local preview is, and the ssh tunnel that shows it on a
// laptop. Opens nothing and sends no image anywhere; it only checks that the page answers.
import { get } from 'node:http';
import { isIP } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { ConfigError, loadConfig } from '../config/load.js';
import { EXIT_CONFIG, EXIT_NO_ANSWER } from '../lib/exit-codes.js';

function answers(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve(false);
    });
    req.once('error', () => resolve(false));
  });
}

export async function previewCommand(a: { config?: string; timeout: number }): Promise<number> {
  let p;
  try {
    p = loadConfig({ file: a.config }).config.preview;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`percept: ${err.message}\n`);
    return EXIT_CONFIG;
  }
  const out = (l: string) => process.stdout.write(`${l}\n`);
  if (!p.enabled) {
    out('The preview is off. Turn it on in the config file and restart the agent:');
    out('  preview:\n    enabled: true        # serves on 127.0.0.1:8089 only');
    out('then run "percept preview" again.');
    return 1;
  }
  // A wildcard bind is reached on loopback; an IPv6 literal needs brackets in a URL. The agent answers
  // only Host names it trusts (loopback, or the configured host): this one is always among them.
  const host = p.host === '0.0.0.0' ? '127.0.0.1' : p.host === '::' ? '[::1]' : isIP(p.host) === 6 ? `[${p.host}]` : p.host;
  const url = `http://${host}:${p.port}/`;
  const ok = await answers(url, a.timeout * 1000);
  out(`preview: ${url}${ok ? '' : '   (not answering: is the agent running with preview.enabled, and restarted since?)'}`);
  out('from a laptop, tunnel it over ssh and open the page there:');
  out(`  ssh -N -L ${p.port}:${host}:${p.port} ${userInfo().username}@${hostname()}`);
  out(`  http://localhost:${p.port}/`);
  return ok ? 0 : EXIT_NO_ANSWER;
}
