/**
 * The task evaluation's inputs in the extension (EVAL.md): the query file's ids and labels, the instruction set's
 * `evaluation:` block, and the files it names. The files are read and checked once and kept while neither their
 * paths nor their modification times change, so that a live edit (which changes an instruction, not the data) does
 * not read a corpus again; the home kinds follow the edited tasks every time.
 */
import * as fs from 'node:fs/promises';
import { homeKindsOf, type EvaluationSources, resolveEvaluation, type ResolvedEvaluation } from '../inputs/evaluationFiles';
import type { TaskSpec } from '../models/embedder';

/** The query file as the evaluation needs it. */
export interface LabelledQueries {
  ids?: string[];
  labels?: string[];
  lines: number[];
}

export class EvaluationInputs {
  private kept: { key: string; resolved: ResolvedEvaluation } | undefined;

  async resolve(queriesFile: string, queries: LabelledQueries, sources: EvaluationSources, tasks: readonly TaskSpec[]): Promise<ResolvedEvaluation> {
    const key = JSON.stringify([queriesFile, queries.ids ?? null, queries.labels ?? null, queries.lines, sources, await modificationTimes(sources)]);
    if (this.kept?.key !== key) this.kept = { key, resolved: await resolveEvaluation(queriesFile, queries, sources, tasks) };
    const { evaluation, documents } = this.kept.resolved;
    if (!evaluation) return {};
    return { evaluation: { ...evaluation, homeKinds: homeKindsOf(tasks) }, ...(documents ? { documents } : {}) };
  }
}

/** Each named file's modification time (null when it cannot be read: resolveEvaluation then says why). */
async function modificationTimes(sources: EvaluationSources): Promise<(number | null)[]> {
  return Promise.all(
    [sources.pairs, sources.corpus, sources.qrels].map(async (file) => (file === undefined ? null : (await fs.stat(file).catch(() => null))?.mtimeMs ?? null)),
  );
}
