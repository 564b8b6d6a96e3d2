// percept gpu install | status | link: onnxruntime's CUDA/TensorRT providers for onnxruntime-node without
// the package feed its install script would fetch them from (gpu-install.ts says how and where).
import type { Argv, CommandModule } from 'yargs';

interface GpuArgs {
  action: 'install' | 'status' | 'link';
  wheels?: string;
  dest?: string;
  'dry-run': boolean;
  tensorrt: boolean;
  force: boolean;
}

const complain = (m: string) => process.stderr.write(`percept gpu: ${m}\n`);

async function gpuStatus(): Promise<number> {
  const rt = await import('../inference/gpu-runtime.js');
  const dir = rt.bindingDir();
  const driver = rt.driverProblem();
  const manifest = rt.installedManifest(dir);
  const rows: [string, string][] = [
    ['onnxruntime-node', `${rt.ortVersion()} (${process.platform}-${process.arch}), binding ${dir}`],
    ['GPU and driver', driver ?? 'present (/dev/nvidia0, libcuda.so.1)'],
    [
      'installed',
      manifest
        ? `onnxruntime ${manifest.onnxruntime}, CUDA ${manifest.cudaMajor}, TensorRT ${manifest.tensorrtMajor ?? 'no'}, ${manifest.installedAt} in ${rt.installedDir(dir)}`
        : 'nothing linked into the binding directory',
    ],
  ];
  let usable = !driver;
  for (const provider of ['cuda', 'tensorrt'] as const) {
    const problem = driver?.startsWith(`${process.arch}:`) ? driver : rt.libraryProblem(provider, dir);
    let line = problem ?? 'libraries in place';
    if (!problem) {
      const missing = rt.unresolved(`${dir}/${rt.PROVIDER_LIBS[provider]}`);
      line = missing.length ? `ldd: unresolved ${missing.join(', ')}` : 'libraries in place, ldd: everything resolved';
    }
    if (provider === 'cuda' && problem) usable = false;
    rows.push([provider, line]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  return usable ? 0 : 1;
}

async function gpuRun(a: GpuArgs): Promise<number> {
  const install = await import('./gpu-install.js');
  const dest = a.dest ?? install.DEFAULT_GPU_DEST;
  try {
    if (a.action === 'status') return await gpuStatus();
    if (a.action === 'link') {
      const done = install.linkInstalled(dest);
      for (const line of done) process.stdout.write(`linked ${line}\n`);
      if (!done.length) process.stdout.write(`nothing installed in ${dest}: nothing to link\n`);
      return 0;
    }
    return install.gpuInstall({ wheels: a.wheels, dest: a.dest, dryRun: a['dry-run'], tensorrt: a.tensorrt, force: a.force });
  } catch (err) {
    complain((err as Error).message);
    return 1;
  }
}

export function gpuCommand(setCode: (c: number) => void): CommandModule<object, GpuArgs> {
  return {
    command: 'gpu <action>',
    describe: "install | status | link: onnxruntime's CUDA/TensorRT provider libraries for this onnxruntime-node, from Python wheels",
    // The builder's chained .option()/.positional() types are wider than the command's args (a choices
    // list infers as string): the handler gets the args as declared, which yargs enforces at run time.
    builder: (y: Argv) =>
      y
        .positional('action', { choices: ['install', 'status', 'link'] as const, demandOption: true })
        .option('wheels', { type: 'string', describe: 'install: take the wheels from this directory instead of pip (offline kiosks)' })
        .option('dest', { type: 'string', describe: 'Where the libraries are kept (default /var/lib/percept-gpu, kept on upgrades)' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'install: say what would be fetched and where, change nothing' })
        .option('tensorrt', { type: 'boolean', default: false, describe: "install: the TensorRT provider and TensorRT's libraries too" })
        .option('force', { type: 'boolean', default: false, describe: 'install: even without an NVIDIA GPU or driver here (an image prepared elsewhere)' })
        .example('$0 gpu install', 'fetch with pip, check with ldd, install and link')
        .example('$0 gpu install --wheels /media/usb/wheels --tensorrt', 'offline, from wheels copied over')
        .example('$0 gpu status', 'what is installed and why a provider would not load')
        .epilogue('Exit 0 done (status: cuda can load); 1 refused or failed, with one line saying why; nothing is half-installed.') as unknown as Argv<GpuArgs>,
    handler: async (a) => {
      setCode(await gpuRun(a));
    },
  };
}
