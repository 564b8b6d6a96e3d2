// percept models merge BASE ADAPTER --out DIR: a PEFT LoRA/DoRA adapter merged into a percept model on the
// device, so a fleet ships adapters (tens of MB) instead of models (a GB).
import type { Argv, CommandModule } from 'yargs';

interface MergeArgs {
  base: string;
  adapter: string;
  out: string;
  name?: string;
}

/** A bar on stderr redrawn in place on a terminal; on a pipe or log, one line per tenth. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  let lastTenth = -1;
  return (done: number, total: number, item: string) => {
    const frac = total ? done / total : 1;
    if (stream.isTTY) {
      const width = 30;
      const full = Math.round(frac * width);
      stream.write(`\r${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${done}/${total} ${item.padEnd(28).slice(0, 28)}`);
      if (done === total) stream.write('\n');
      return;
    }
    const tenth = Math.floor(frac * 10);
    if (tenth !== lastTenth) {
      lastTenth = tenth;
      stream.write(`${label} ${Math.round(frac * 100)}% (${done}/${total} layers)${item ? ` ${item}` : ''}\n`);
    }
  };
}

export const modelsMergeCommand: CommandModule<object, MergeArgs> = {
  command: 'merge <base> <adapter>',
  describe: 'merge a PEFT LoRA/DoRA adapter (adapter_config.json + adapter_model.safetensors) into BASE, writing a new verified model directory',
  builder: (y: Argv) =>
    y
      .positional('base', {
        type: 'string',
        demandOption: true,
        describe: 'A percept model directory whose model.json lists its adaptable layers',
      })
      .positional('adapter', {
        type: 'string',
        demandOption: true,
        describe: 'A PEFT adapter directory',
      })
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'The new model directory (must not exist)',
      })
      .option('name', {
        type: 'string',
        describe: 'Model name in the new manifest (default: BASE name + adapter directory name)',
      }) as Argv<MergeArgs>,
  handler: async (a) => {
    const started = process.hrtime.bigint();
    // Imported when it runs: registering the command must not load onnxruntime for every percept command.
    const { mergeAdapter } = await import('../inference/merge/merge-model.js');
    const result = await mergeAdapter({
      base: a.base,
      adapter: a.adapter,
      out: a.out,
      ...(a.name ? { name: a.name } : {}),
      onProgress: progressBar('[merge]'),
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(
      `${result.manifest.name}: ${result.kind} adapter merged into ${result.layers} layers, verified, written to ${result.dir} ` +
        `in ${seconds.toFixed(1)} s\n`,
    );
  },
};
