// The label spaces of the percept contract (design §1). Every model's outputs are mapped into these,
// by label name, so a model may list its labels in any order.
export const TASKS = ['age', 'gender', 'emotion'] as const;
export type Task = (typeof TASKS)[number];

/** The tasks a device reports: all, or all but emotion when classifier.emotion is false (privacy). */
export function reportedTasks(emotion: boolean): readonly Task[] {
  return emotion ? TASKS : TASKS.filter((t) => t !== 'emotion');
}

export const CONTRACT_LABELS: Record<Task, readonly string[]> = {
  age: ['0-2', '3-9', '10-19', '20-29', '30-39', '40-49', '50-59', '60-69', '70+'],
  gender: ['male', 'female'],
  emotion: ['surprise', 'fear', 'disgust', 'happy', 'sad', 'angry', 'neutral'],
};

/** Lower edges in years of the contract's age groups; the last group is open-ended. */
export const AGE_GROUP_EDGES = [0, 3, 10, 20, 30, 40, 50, 60, 70];

export interface Prediction {
  label: string;
  p: number;
  probs: Record<string, number>;
}

export function toPrediction(task: Task, probs: ArrayLike<number>): Prediction {
  const labels = CONTRACT_LABELS[task];
  let best = 0;
  const byLabel: Record<string, number> = {};
  for (let i = 0; i < labels.length; i++) {
    byLabel[labels[i]!] = probs[i]!;
    if (probs[i]! > probs[best]!) best = i;
  }
  return { label: labels[best]!, p: probs[best]!, probs: byLabel };
}
