// percept reload: registering it loads nothing heavy; the command itself (reload.ts) is imported when it runs.
import type { Argv, CommandModule } from 'yargs';

interface ReloadOptions {
  config?: string;
  stateDir?: string;
  wait: number;
}

/** setCode receives the exit code, as main() returns it. */
export const reloadCommandModule = (setCode: (code: number) => void): CommandModule<object, ReloadOptions> => ({
  command: 'reload',
  describe: 're-read the config file in the running agent and report whether it took it (what SIGHUP does, with a verdict)',
  builder: (y: Argv) =>
    y
      .option('config', {
        alias: 'c',
        type: 'string',
        describe: 'The config file the agent runs with (default /etc/percept/percept.yaml), for its state.dir',
      })
      .option('state-dir', { type: 'string', describe: "The agent's state directory (default: the config's state.dir, else the default)" })
      .option('wait', { type: 'number', default: 90, describe: 'Seconds to wait for the verdict (a model switch is verified first)' })
      .example('$0 reload', 'after editing /etc/percept/percept.yaml (systemctl reload percept runs this)')
      .epilogue(
        'Exit 0 reloaded (a model it refuses is reported: it keeps its model); 78 the agent refused the file and runs on unchanged; 69 no agent answered.',
      ) as Argv<ReloadOptions>,
  handler: async (a) => {
    setCode(await (await import('./reload.js')).reloadCommand({ config: a.config, stateDir: a.stateDir, wait: a.wait }));
  },
});
