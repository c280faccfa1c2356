/**
 * Built-in instruction sets. `paper-ja` is Table 2 of the paper (shared/seed/paper-ja.txt); `paper-en` holds the
 * English renderings fixed in docs/METHOD.md. Base (no instruction) is not listed: readers add it first.
 */
import { BASE_TASK } from '../engine/types';
import type { TaskSpec } from '../models/embedder';

export interface InstructionTask {
  name: string;
  instruction: string;
}

export const PRESETS = {
  'paper-en': [
    { name: 'Retrieval', instruction: 'Given a query, retrieve passages that can answer the query.' },
    { name: 'Reranking', instruction: 'Given a query, retrieve passages relevant to the query.' },
    { name: 'STS', instruction: 'Given a query, find the passage most similar in meaning to the query.' },
    { name: 'Classification', instruction: 'Classify the given query into the appropriate category.' },
    { name: 'Clustering', instruction: 'Identify the topic of the given query.' },
  ],
  'paper-ja': [
    { name: 'Retrieval', instruction: 'クエリを与えるのでクエリに答えることができる文章を検索してください。' },
    { name: 'Reranking', instruction: 'クエリを与えるのでクエリに関連する文章を検索してください。' },
    { name: 'STS', instruction: 'クエリを与えるので、もっともクエリに意味が似ている一節を探してください。' },
    { name: 'Classification', instruction: '与えられたクエリを適切なカテゴリに分類してください。' },
    { name: 'Clustering', instruction: '与えられたクエリのトピックを特定してください。' },
  ],
} as const satisfies Record<string, readonly InstructionTask[]>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export function isPresetName(value: string): value is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESETS, value);
}

/** The preset's tasks, Base first. */
export function presetTasks(name: PresetName): TaskSpec[] {
  return [{ name: BASE_TASK, instruction: null }, ...PRESETS[name].map((t) => ({ name: t.name, instruction: t.instruction }))];
}
