// Dataset label vocabularies mapped into the contract's label spaces, by name.
import { AGE_GROUP_EDGES, CONTRACT_LABELS } from '../../contract/labels.js';

/** RAF-DB basic's labels 1–7, in its own order; mapped to the contract by name, never by position. */
export const RAFDB_EMOTIONS = ['Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger', 'Neutral'] as const;

const EMOTION_SYNONYMS: Record<string, string> = {
  surprise: 'surprise',
  surprised: 'surprise',
  fear: 'fear',
  fearful: 'fear',
  disgust: 'disgust',
  disgusted: 'disgust',
  happiness: 'happy',
  happy: 'happy',
  sadness: 'sad',
  sad: 'sad',
  anger: 'angry',
  angry: 'angry',
  neutral: 'neutral',
};

/** An emotion name in any of the datasets' spellings → contract index, or -1. */
export function emotionIndex(name: string): number {
  const label = EMOTION_SYNONYMS[name.trim().toLowerCase()];
  return label ? CONTRACT_LABELS.emotion.indexOf(label) : -1;
}

export function genderIndex(name: string): number {
  const v = name.trim().toLowerCase();
  if (v === 'male' || v === 'm' || v === 'man') return 0;
  if (v === 'female' || v === 'f' || v === 'woman') return 1;
  return -1;
}

/** Age in whole years → the contract group it falls in. */
export function ageGroupOfYears(years: number): number {
  let g = 0;
  for (let i = 0; i < AGE_GROUP_EDGES.length; i++) if (years >= AGE_GROUP_EDGES[i]!) g = i;
  return g;
}

/** An age as a contract group name ("20-29", FairFace's "more than 70" = "70+") or a number of years → index, or -1. */
export function ageIndex(value: string): number {
  const v = value.trim().toLowerCase();
  if (v === 'more than 70' || v === '70+') return CONTRACT_LABELS.age.length - 1;
  const named = CONTRACT_LABELS.age.indexOf(v);
  if (named >= 0) return named;
  if (/^\d{1,3}$/.test(v)) return ageGroupOfYears(Number(v));
  return -1;
}

/** UTKFace's race codes (its README). */
export const UTK_RACES = ['White', 'Black', 'Asian', 'Indian', 'Others'];
