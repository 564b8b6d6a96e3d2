// The host around the agent: a synchronised clock (event times, opening hours, TLS certificates' dates)
// and the state of the percept service under systemd.
import { existsSync } from 'node:fs';
import { fail, ok, skip, warn, type Check, type Result } from './check.js';
import { lastLine, runTool, type Ran } from './exec.js';

const CLOCK_FIX = 'enable time synchronisation: timedatectl set-ntp true (systemd-timesyncd), or install chrony';

/** From `timedatectl show -p NTPSynchronized --value` (null: no answer) and systemd-timesyncd's flag file. */
export function clockResult(timedatectl: Ran | null, flagFile: boolean): Result {
  const said = timedatectl && timedatectl.code === 0 ? timedatectl.stdout.trim() : null;
  if (said === 'yes') return ok('synchronised (timedatectl: NTPSynchronized=yes)');
  if (flagFile) return ok('synchronised (/run/systemd/timesync/synchronized)');
  // A warning: right after boot it takes a minute, and the agent runs meanwhile (with late-corrected times).
  if (said === 'no') return warn('not synchronised (timedatectl: NTPSynchronized=no)', CLOCK_FIX);
  const why = !timedatectl || timedatectl.missing ? 'no timedatectl' : `timedatectl: ${lastLine(timedatectl.stderr) || `exit ${timedatectl.code}`}`;
  return warn(
    `unknown: ${why}, and no /run/systemd/timesync/synchronized`,
    'check by hand (chronyc tracking, or ntpq -p); event times are only as good as this clock',
  );
}

/** `systemctl is-active percept` and the unit's LoadState; null: no systemd running here. */
export function serviceResult(active: Ran | null, loadState: string | null): Result {
  if (!active) return skip('systemd is not running here (no /run/systemd/system): percept is not run as a service');
  if (active.missing) return skip('no systemctl');
  if (loadState === 'not-found')
    return skip('percept.service is not installed (a checkout, not the Debian package)', 'sudo apt install ./percept_*.deb installs the service');
  const state = active.stdout.trim() || lastLine(active.stderr) || `exit ${active.code}`;
  if (state === 'active') return ok('percept.service is active');
  if (state === 'failed') return fail('percept.service has failed', 'journalctl -u percept -n 50 says why; fix it, then sudo systemctl restart percept');
  if (state === 'activating' || state === 'reloading')
    return warn(`percept.service is ${state}`, 'run doctor again in a minute; journalctl -u percept -f shows it start');
  return warn(`percept.service is ${state}`, 'sudo systemctl enable --now percept');
}

export function hostChecks(): Check[] {
  const systemd = existsSync('/run/systemd/system');
  return [
    {
      id: 'clock',
      timeoutMs: 10_000,
      run: async (signal) => {
        const r = await runTool('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], 5000, signal);
        return clockResult(r, existsSync('/run/systemd/timesync/synchronized'));
      },
    },
    {
      id: 'service',
      timeoutMs: 10_000,
      run: async (signal) => {
        if (!systemd) return serviceResult(null, null);
        const load = await runTool('systemctl', ['show', '-p', 'LoadState', '--value', 'percept.service'], 4000, signal);
        const active = await runTool('systemctl', ['is-active', 'percept.service'], 4000, signal);
        return serviceResult(active, load.code === 0 ? load.stdout.trim() : null);
      },
    },
  ];
}
