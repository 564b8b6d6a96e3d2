// The percept command line. Commands build options and call the composition root or a tool, nothing else.
import yargs, { type Argv } from 'yargs';
import { runCommand, type RunArgs } from './run.js';
import { configPrint, configValidate } from './config-commands.js';
import { modelsList, modelsMergeCommand, modelsVerify } from './models-commands.js';
import { modelsFetch } from './models-fetch.js';
import { demoCommand } from './demo.js';
import { benchCommand } from './bench.js';

function runOptions(y: Argv) {
  return y
    .option('config', { alias: 'c', type: 'string', describe: 'YAML config file (default: /etc/percept/percept.yaml if present)' })
    .option('source', { alias: 's', type: 'string', describe: 'Video file, /dev/videoN, rtsp://…, gst:<pipeline>, or a folder of images' })
    .option('mqtt-url', { type: 'string', describe: 'Broker URL; without one an embedded broker is started' })
    .option('device-id', { type: 'string', describe: 'Device id in topics (default: hostname)' })
    .option('state-dir', { type: 'string', describe: 'Where the event sequence number is kept' })
    .option('model', { type: 'string', describe: 'Attribute model directory (e.g. a PE-Core export); replaces classifier.models' })
    .option('exit-on-eof', { type: 'boolean', default: false, describe: 'Read every frame of a file, end open visits at its end, exit 0' })
    .option('print-events', { type: 'boolean', default: false, describe: 'Print every event as a JSON line on stdout' });
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const cli = yargs(argv)
    .scriptName('percept')
    .usage('$0 <command> [options]')
    .command('run', 'Run the agent', runOptions, async (a) => { code = await runCommand(a as unknown as RunArgs); })
    .command('demo', 'Run the agent once on the demo clip (made on first use) with an embedded broker, printing events', (y) => y,
      async () => { code = await demoCommand(); })
    .command('bench', 'Measure the pipeline on the reference clip (or --source) and print the figures', (y) => y
      .option('source', { type: 'string', describe: 'Clip to measure (default: the 1280x720 demo clip)' })
      .option('json', { type: 'string', describe: 'Write every figure to this JSON file' })
      .option('report', { type: 'string', describe: 'Write report.md and latency.svg into this directory' })
      .option('duration', { type: 'number', describe: 'Soak: loop the clip for this many seconds, RSS every 10 s' })
      .option('compare', { choices: ['human'] as const, describe: 'Also run @vladmandic/human on the same clip' })
      .option('model', { type: 'string', describe: 'Attribute model directory to measure instead of the defaults' }),
    async (a) => { code = await benchCommand(a); })
    .command('config <action> [file]', 'validate FILE | print the effective config', (y) => y
      .positional('action', { choices: ['validate', 'print'] as const })
      .positional('file', { type: 'string', describe: 'YAML file' })
      .option('config', { alias: 'c', type: 'string', describe: 'For print: the file to read' }),
    async (a) => {
      code = a.action === 'validate' ? configValidate(a.file) : configPrint(a.file ?? a.config);
    })
    .command('models [action] [target]', 'list the models | verify NAME|DIR against its manifest | fetch NAME from the catalog | merge BASE ADAPTER --out DIR', (y) => y
      .command(modelsMergeCommand)
      .positional('action', { choices: ['list', 'verify', 'fetch'] as const })
      .positional('target', { type: 'string', describe: 'A model directory, or a name from "models list" (fetch: a name from models/catalog.json)' })
      .option('dest', { type: 'string', describe: 'fetch: install into this directory (default: where the agent looks for it)' }),
    async (a) => {
      code = a.action === 'list' ? await modelsList() : a.action === 'fetch' ? await modelsFetch(a.target, a.dest) : await modelsVerify(a.target);
    })
    .demandCommand(1, 'Name a command: run, demo, bench, config or models (--help lists them).')
    .strict()
    .help()
    .version(false)
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`${msg}\n\nRun "percept --help" for usage.\n`);
      code = 64;
    });
  await cli.parseAsync();
  return code;
}
