// The percept command line. Commands build options and call the composition root or a tool, nothing else.
// Strict: an unknown command or a misspelt flag is a usage error (exit 64), never silently ignored.
import yargs, { type Argv } from 'yargs';
import type { RunArgs } from './run.js';
import { remoteOptions, type RemoteArgs } from './remote-device.js';
import { EXIT_USAGE } from '../lib/exit-codes.js';
import { modelsMergeCommand } from './models-merge.js';
import { modelsEvalCommand } from './models-eval.js';
import { reloadCommandModule } from './reload-command.js';
import { secretCommand } from './secret.js';
import { doctorCommand } from './doctor-command.js';
import { gpuCommand } from './gpu.js';
import { PACKAGE_VERSION } from '../lib/package-root.js';
import { withSuggestions } from './suggest.js';
import { completeCommandLine } from './completion.js';

// Commands are imported when they run: `watch` or `config get` over SSH should not wait for the
// agent's whole module graph (onnxruntime, OpenCV bindings) to load.
const run = () => import('./run.js');
const configLocal = () => import('./config-commands.js');
const configRemote = () => import('./config-remote.js');
const configApply = () => import('./config-apply.js');
const models = () => import('./models-commands.js');

// Node opens its inspector (127.0.0.1:9229, code execution for any local user) on SIGUSR1 unless a listener
// is installed, and Node 20 has no --disable-sigusr1: installed before anything else, for every command.
process.on('SIGUSR1', () => undefined);

class UsageError extends Error {}

function runOptions(y: Argv) {
  return y
    .option('config', { alias: 'c', type: 'string', describe: 'YAML config file (default: /etc/percept/percept.yaml if present)' })
    .option('source', { alias: 's', type: 'string', describe: 'Video file, /dev/videoN, rtsp://…, gst:<pipeline>, or a folder of images' })
    .option('mqtt-url', { type: 'string', describe: 'Broker URL; without one an embedded broker is started' })
    .option('device-id', { type: 'string', describe: 'Device id in topics (default: hostname)' })
    .option('state-dir', { type: 'string', describe: 'Where the event sequence number is kept' })
    .option('model', { type: 'string', describe: 'Attribute model directory (e.g. a PE-Core export); replaces classifier.models' })
    .option('exit-on-eof', { type: 'boolean', default: false, describe: 'Read every frame of a file, end open visits at its end, exit 0' })
    .option('print-events', { type: 'boolean', default: false, describe: 'Print every event as a JSON line on stdout' })
    .example('$0 run -c /etc/percept/percept.yaml', 'what the systemd unit runs')
    .example('$0 run -s /dev/video0 --mqtt-url mqtt://broker.lan', 'a USB camera, events to a broker on the network')
    .example('$0 run -s clip.mp4 --exit-on-eof --print-events', 'a recorded clip once, every event on stdout');
}

function configCommands(y: Argv, setCode: (c: number) => void) {
  const remote = <T>(b: Argv<T>) => remoteOptions(b);
  const args = (a: unknown) => a as RemoteArgs;
  return y
    .command(
      'validate [file]',
      'Check a YAML config file (exit 78 with every problem named)',
      (b) => b.positional('file', { type: 'string', describe: 'YAML file' }).example('$0 config validate /etc/percept/percept.yaml', ''),
      async (a) => {
        setCode((await configLocal()).configValidate(a.file));
      },
    )
    .command(
      'print [file]',
      'Print the effective local config (file + PERCEPT_* environment), secrets redacted',
      (b) =>
        b
          .positional('file', { type: 'string', describe: 'YAML file (default: --config or /etc/percept/percept.yaml)' })
          .option('config', { alias: 'c', type: 'string', describe: 'The file to read' })
          .example('$0 config print -c site.yaml', ''),
      async (a) => {
        setCode((await configLocal()).configPrint(a.file ?? a.config));
      },
    )
    .command(
      'set <pairs..>',
      'Change keys on a running device (exit 0 applied, 1 refused, 69 no answer)',
      (b) =>
        remote(b)
          .positional('pairs', {
            type: 'string',
            array: true,
            describe: 'KEY=VALUE, typed by the schema (lists: a,b or JSON; null: back to the default)',
          })
          .example('$0 config set detector.minFacePx=32 classifier.minSharpness=15', "tune this host's agent")
          .example('$0 config set --device-id kiosk-3 --mqtt-url mqtt://broker.lan log.level=debug', 'another device')
          .example('$0 config set log.namespaces=\'{"detect":"debug"}\'', 'a map as JSON')
          .option('save', { type: 'boolean', default: true, describe: 'Keep the change across restarts (--no-save: until the next restart)' })
          .example('$0 config set --no-save log.level=debug', 'until the next restart'),
      async (a) => {
        setCode(await (await configRemote()).configSet(a.pairs ?? [], { ...args(a), save: a.save }));
      },
    )
    .command(
      'get [key]',
      "Print a running device's effective config, or one key of it",
      (b) =>
        remote(b)
          .positional('key', { type: 'string', describe: 'Dotted key, e.g. detector.minFacePx' })
          .example('$0 config get detector', 'one section')
          .example('$0 config get --device-id kiosk-3', 'everything, from another device'),
      async (a) => {
        setCode(await (await configRemote()).configGet(a.key, args(a)));
      },
    )
    .command(
      'diff <file>',
      'Show what a YAML file would change on a running device (leaf: old → new)',
      (b) =>
        remote(b)
          .positional('file', { type: 'string', describe: 'YAML file' })
          .example('$0 config diff site.yaml --device-id kiosk-3', 'before copying site.yaml over'),
      async (a) => {
        setCode(await (await configApply()).configDiff(a.file, args(a)));
      },
    )
    .command(
      'apply <file>',
      'Push the keys a YAML site file sets to a running device: shows the diff, applies it whole or not at all (exit 0 applied, 1 refused, 69 no answer)',
      (b) =>
        remote(b)
          .positional('file', { type: 'string', describe: 'YAML file' })
          .option('save', { type: 'boolean', default: true, describe: 'Keep the change across restarts (--no-save: until the next restart)' })
          .example('$0 config apply site.yaml --device-id kiosk-3', 'tune a device from a site file'),
      async (a) => {
        setCode(await (await configApply()).configApply(a.file, { ...args(a), save: a.save }));
      },
    )
    .demandCommand(1, 'Name a config command: validate, print, set, get, diff or apply.');
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const setCode = (c: number) => {
    code = c;
  };
  const cli = yargs(argv)
    .scriptName('percept')
    .usage('$0 <command> [options]')
    .command('run', 'Run the agent', runOptions, async (a) => {
      // yargs types the handler's args from the builder; the command module declares the args it reads (a subset).
      code = await (await run()).runCommand(a as unknown as RunArgs);
    })
    .command(
      'demo',
      'Run the agent once on the demo clip (made on first use) with an embedded broker, printing events',
      (y) => y.example('$0 demo', 'see events on the demo clip, no camera or broker needed'),
      async () => {
        code = await (await import('./demo.js')).demoCommand();
      },
    )
    .command(
      'bench',
      'Measure the pipeline on the reference clip (or --source) and print the figures',
      (y) =>
        y
          .option('source', { type: 'string', describe: 'Clip to measure (default: the 1280x720 demo clip)' })
          .option('json', { type: 'string', describe: 'Write every figure to this JSON file' })
          .option('report', { type: 'string', describe: 'Write report.md and latency.svg into this directory' })
          .option('duration', { type: 'number', describe: 'Soak: loop the clip for this many seconds, RSS every 10 s' })
          .option('compare', { choices: ['human'] as const, describe: 'Also run @vladmandic/human on the same clip' })
          .option('model', { type: 'string', describe: 'Attribute model directory to measure instead of the defaults' })
          .option('live', { type: 'boolean', describe: 'Play a clip in real time as a camera would: CPU share, frames/s, latency, decode floor' })
          .option('clip', { type: 'string', describe: 'With --live: this clip instead of the empty and busy scenes' })
          .option('seconds', { type: 'number', describe: 'With --live: seconds measured (default 30)' })
          .option('warmup', { type: 'number', describe: 'With --live: seconds of warm-up first (default 15)' })
          .example('$0 bench', 'the reference figures on this machine')
          .example('$0 bench --live', 'CPU share of an empty and a busy scene played as a camera')
          .example('$0 bench --duration 600 --json soak.json', 'a ten-minute soak'),
      async (a) => {
        code = await (await import('./bench.js')).benchCommand(a);
      },
    )
    .command('config', 'validate FILE | print | set KEY=VALUE… | get [KEY] | diff FILE | apply FILE', (y) =>
      configCommands(y, setCode)
        .example('$0 config validate /etc/percept/percept.yaml', 'check a file before restarting')
        .example('$0 config set detector.minFacePx=32', 'tune the running agent'),
    )
    .command(
      'content set [id]',
      'Say what is on screen, as a signage player does (content/set): the agent reports an impression when the play ends',
      (y) =>
        remoteOptions(y)
          .positional('id', { type: 'string', describe: 'Content id, e.g. ad-1' })
          .option('name', { type: 'string', describe: 'A readable name, carried into the impression' })
          .option('none', { type: 'boolean', default: false, describe: 'Nothing on screen (ends the current play)' })
          .example('$0 content set ad-1 --name "Spring sale"', 'a play starts (the previous one ends)')
          .example('$0 content set --none', 'the screen is blank: the play ends and its impression goes out'),
      async (a) => {
        // yargs types the handler's args from the builder; the command module declares the args it reads (a subset).
        code = await (await import('./content.js')).contentSet(a.id, a as unknown as RemoteArgs & { name?: string; none: boolean });
      },
    )
    .command(
      'watch',
      'A live view of a running device: status, fps and stage times, people, last events',
      (y) =>
        remoteOptions(y)
          .option('json', { type: 'boolean', default: false, describe: 'One JSON line per message instead of the screen' })
          .example('$0 watch', "this host's agent, redrawn in place; Ctrl-C quits")
          .example('$0 watch --device-id kiosk-3 --json | jq .', 'for scripts'),
      async (a) => {
        // yargs types the handler's args from the builder; the command module declares the args it reads (a subset).
        code = await (await import('./watch.js')).watchCommand(a as unknown as RemoteArgs & { json: boolean });
      },
    )
    .command(
      'preview',
      'Print where the local annotated preview is and the ssh -L line to see it from a laptop',
      (y) =>
        y
          .option('config', { alias: 'c', type: 'string', describe: 'The config the agent runs with (default: /etc/percept/percept.yaml)' })
          .option('timeout', { type: 'number', default: 3, describe: 'Seconds to wait for the page to answer' })
          .example('$0 preview', 'after setting preview.enabled: true and restarting'),
      async (a) => {
        code = await (await import('./preview.js')).previewCommand(a);
      },
    )
    .command(reloadCommandModule(setCode))
    .command(
      'models [action] [target]',
      'list the models | verify NAME|DIR against its manifest | fetch NAME from the catalog | merge BASE ADAPTER --out DIR | use NAME|DIR (switch the running agent)',
      (y) =>
        y
          .command(modelsMergeCommand)
          .command(modelsEvalCommand(setCode))
          .command(
            'use <dir>',
            'verify an attributes model directory, make it classifier.models in the config file and switch the running agent to it (no restart)',
            (u) =>
              u
                .positional('dir', {
                  type: 'string',
                  demandOption: true,
                  describe: 'An attributes model directory (with model.json), or its name in "models list"',
                })
                .option('config', { alias: 'c', type: 'string', describe: 'The config file the agent runs with (default /etc/percept/percept.yaml)' })
                .option('state-dir', { type: 'string', describe: "The agent's state directory (default: the config's state.dir, else the default)" })
                .option('wait', { type: 'number', default: 120, describe: 'Seconds to wait for the running agent to confirm the switch' })
                .example('$0 models use face-api-age-gender', 'a model by the name "models list" shows')
                .example('$0 models use /opt/percept/models/pe-core-2026-12', 'the agent verifies it in its workers and switches; visits and events go on')
                .epilogue(
                  'Exit 0 switched (or no agent runs: used at its next start); 65 the model fails verification or the agent refused it (config unchanged); 69 no confirmation within --wait.',
                ),
            async (a) => {
              // yargs types the handler's args from the builder; the command module declares the args it reads (a subset).
              code = await (await import('./models-use.js')).modelsUse(a as unknown as import('./models-use.js').UseArgs);
            },
          )
          .positional('action', { choices: ['list', 'verify', 'fetch'] as const })
          .positional('target', {
            type: 'string',
            describe: 'A model directory, or a name from "models list" (fetch: a name from models/catalog.json)',
          })
          .option('dest', { type: 'string', describe: 'fetch: install into this directory (default: where the agent looks for it)' })
          .example('$0 models list', '')
          .example('$0 models verify /opt/models/pe-core', 'check a model directory against its manifest')
          .example('$0 models fetch yunet-n', 'download a catalog model and verify it'),
      async (a) => {
        if (a.action === 'fetch') {
          code = await (await import('./models-fetch.js')).modelsFetch(a.target, a.dest);
          return;
        }
        const m = await models();
        code = a.action === 'list' ? await m.modelsList() : await m.modelsVerify(a.target);
      },
    )
    .command(secretCommand(setCode))
    .command(doctorCommand(setCode))
    .command(gpuCommand(setCode))
    .completion('completion', 'Print a bash/zsh completion script (percept completion >> ~/.bashrc)', completeCommandLine)
    .example('$0 demo', 'try it without a camera')
    .example('$0 config set detector.minFacePx=32', 'tune a running agent')
    .example('$0 watch', 'see what it sees, live')
    .example('$0 doctor', 'is this device ready? one line per check, with a fix')
    .demandCommand(1, 'Name a command: run, demo, bench, config, watch, preview, models, doctor or gpu (--help lists them).')
    .strict()
    .help()
    .version(PACKAGE_VERSION)
    .alias('version', 'V')
    .wrap(Math.min(110, process.stdout.columns || 80))
    // Throwing stops yargs from running the command after a usage error (returning would not).
    .fail((msg, err) => {
      throw err ?? new UsageError(withSuggestions(msg, cli, argv));
    });
  try {
    await cli.parseAsync();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\nRun "percept --help" for usage.\n`);
    return EXIT_USAGE;
  }
  return code;
}
