// percept models eval [MODEL] --data DIR: an attribute model's accuracy on a labelled face folder, with the
// agent's own crop and preprocessing. Registering it loads nothing heavy; the run is imported when it runs.
import type { Argv, CommandModule } from 'yargs';
import type { EvalArgs } from './eval/run.js';

/** setCode receives the exit code, as main() returns it. */
export const modelsEvalCommand = (setCode: (code: number) => void): CommandModule<object, EvalArgs> => ({
  command: 'eval [model]',
  describe: "measure an attributes model on a labelled folder (FairFace, RAF-DB, UTKFace or a CSV) with the agent's crop and preprocessing",
  builder: (y: Argv) =>
    y
      .positional('model', {
        type: 'string',
        describe: 'A model directory or a name from "models list" (default: the agent\'s default age/gender and expression models)',
      })
      .option('data', { type: 'string', demandOption: true, describe: 'The labelled folder' })
      .option('format', { choices: ['fairface', 'rafdb', 'utkface', 'csv'] as const, describe: 'Default: found from the label file in --data' })
      .option('labels', { type: 'string', describe: 'The label file, when it is not where the format keeps it' })
      .option('split', { type: 'string', describe: 'FairFace: val (default) or train; RAF-DB: test (default), train or all' })
      .option('detect', {
        type: 'boolean',
        default: false,
        describe: "Full images: run the agent's detector and classify the largest face (default: each image is a face crop)",
      })
      .option('compare', { type: 'string', describe: 'A second model on the same images: the paired difference, B minus A, with its interval' })
      .option('json', { type: 'string', describe: 'Write the figures as JSON to FILE ("-" or no value: stdout, instead of the table)' })
      .option('report', { type: 'string', describe: 'Write DIR/report.md and an SVG confusion matrix per task' })
      .option('limit', { type: 'number', describe: 'Only the first N labelled images' })
      .option('resamples', { type: 'number', default: 1000, describe: 'Bootstrap resamples for the 95% intervals' })
      .option('seed', { type: 'number', default: 1, describe: 'Bootstrap seed (same seed, same intervals)' })
      .option('config', {
        alias: 'c',
        type: 'string',
        describe: 'Config file for classifier.cropMargin and the detector (default /etc/percept/percept.yaml if present)',
      })
      .example('$0 models eval --data ~/data/fairface --split val', 'the default models on FairFace val, with the race × gender table')
      .example('$0 models eval pe-core --data ~/data/rafdb/basic --compare models/face-api/face-expression', 'paired difference on RAF-DB test')
      .epilogue(
        "Face crops (the default): the face box is the image inset by the model's crop margin, so the agent's crop (the box grown by " +
          "margin × its larger side on every side) is exactly the whole image: the crop's own border is the margin. Models with an " +
          "aligned crop get the box, as the agent does for a face without landmarks. With --detect the agent's detector finds the " +
          'largest face; an image without one counts as wrong. Exit 0 measured; 64 bad arguments; 65 a bad label file (named with ' +
          'its line) or a model that fails verification.',
      ) as Argv<EvalArgs>,
  handler: async (a) => {
    const { runEval } = await import('./eval/run.js');
    setCode(await runEval(a));
  },
});
