// The doctor command's options, registered in main.ts. Light on purpose: the checks (onnxruntime,
// OpenCV, the config loader) are imported only when doctor runs, not when any other command starts.
import type { Argv, CommandModule } from 'yargs';
import type { DoctorArgs } from './doctor.js';

/** `setCode` carries the exit code back to the CLI. */
export const doctorCommand = (setCode: (c: number) => void): CommandModule<object, DoctorArgs> => ({
  command: 'doctor',
  describe:
    'Check this device as an installer would: OS, OpenCV, cameras, execution providers, models, state directory, broker, clock, service (exit 0 when what the config asks for works, else 1)',
  // The builder's chained .option()/.positional() types are wider than the command's args (a choices
  // list infers as string): the handler gets the args as declared, which yargs enforces at run time.
  builder: (y: Argv) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: 'The config to check against (default: /etc/percept/percept.yaml if present)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the checks as JSON instead of the table' })
      .example('$0 doctor', 'one line per check, with a fix under each line that is not ok')
      .example(
        '$0 doctor -c site.yaml --json | jq \'.checks[] | select(.status != "ok")\'',
        'what needs attention, for scripts',
      ) as unknown as Argv<DoctorArgs>,
  handler: async (a) => {
    setCode(await (await import('./doctor.js')).doctorRun(a));
  },
});
