/**
 * Instruction sets: JSON or YAML files `{ "tasks": [ { "name": "Retrieval", "instruction": "..." }, ... ] }`
 * (schema: schemas/instructions.schema.json), or a preset name (paper-en, paper-ja). Base (no instruction) is always
 * added first; a task named Base in the file is an error, and so is one named Corpus (any case: the bundle's document
 * embeddings are <model>/Corpus.npy). Names and instructions are trimmed; a name written with whitespace at its start
 * or end gets a warning naming both forms (names become file names and lines of tasks.txt), and two names equal
 * once trimmed are an error naming both lines.
 * Each task may declare its home kind (`kind:` retrieval, reranking, sts, classification or clustering; by default
 * the paper's task names map to theirs, docs/EVAL.md). An optional top-level `evaluation:` block names the labelled
 * data (`pairs`, `corpus`, `qrels`: paths relative to the instruction set's folder).
 *
 * parseInstructionDocument() also serves the VS Code extension: it never throws and returns every task it can
 * locate (with the text range of its instruction) and every problem (with its range), for CodeLenses and
 * diagnostics while the user edits.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, Node, parseDocument, Scalar } from 'yaml';
import { UserError } from '../engine/errors';
import { CORPUS_TASK, EVAL_KINDS, type EvalKind, isCorpusTask } from '../engine/evaluation/types';
import { BASE_TASK } from '../engine/types';
import type { TaskSpec } from '../models/embedder';
import type { EvaluationSources } from './evaluationFiles';
import { jsonSyntaxError } from './json';
import { textLengthProblem } from './limits';
import { yamlErrorSites } from './yamlErrors';
import { isPresetName, PRESET_NAMES, presetTasks } from './presets';
import { readUtf8File } from '../engine/io/textFile';

export type InstructionFormat = 'json' | 'yaml';

/** 0-based line and UTF-16 character, as in VS Code. */
export interface TextPosition {
  line: number;
  character: number;
}

export interface TextRange {
  start: TextPosition;
  end: TextPosition;
}

export interface LocatedTask {
  /** 0-based position in the file's task list. */
  index: number;
  name: string;
  instruction: string;
  /** The whole task entry. */
  range: TextRange;
  nameRange: TextRange;
  /** The instruction value as written (quotes, or a block scalar's indicator and body, included). */
  instructionRange: TextRange;
  /** The `kind:` as written, when given. */
  kind?: EvalKind;
}

export interface InstructionProblem {
  message: string;
  /** 1-based line (for messages). */
  line: number;
  range: TextRange;
  /** A warning: the file is usable as it is (an error otherwise). */
  severity?: 'warning';
}

export interface InstructionDocument {
  tasks: LocatedTask[];
  problems: InstructionProblem[];
  /** What is usable but probably not what the user meant (severity 'warning'). */
  warnings?: InstructionProblem[];
  /** The `evaluation:` block's paths as written (relative to the file), when there is one. */
  evaluation?: EvaluationSources;
  /** Where each of those paths is written (the value, quotes included), for problems with the files they name. */
  evaluationRanges?: Partial<Record<EvaluationField, TextRange>>;
}

const TOP_LEVEL_FIELDS = ['tasks', 'evaluation', '$schema'];
const TASK_FIELDS = ['name', 'instruction', 'kind'];
export const EVALUATION_FIELDS = ['pairs', 'corpus', 'qrels'] as const;
export type EvaluationField = (typeof EVALUATION_FIELDS)[number];

export function instructionFormat(file: string): InstructionFormat | undefined {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.json') return 'json';
  if (extension === '.yaml' || extension === '.yml') return 'yaml';
  return undefined;
}

/** Reads an instruction set file or a preset; returns the tasks with Base first. */
export async function readInstructionSet(fileOrPreset: string): Promise<TaskSpec[]> {
  return (await readInstructionFile(fileOrPreset)).tasks;
}

export interface InstructionSet {
  /** Base first. */
  tasks: TaskSpec[];
  /** The evaluation block's files, resolved against the instruction set's folder; {} when there is no block. */
  evaluation: EvaluationSources;
  /** "file:line: problem" for each warning of the file. */
  warnings: string[];
}

/** Reads an instruction set file or a preset: the tasks (Base first) and the evaluation block's files. */
export async function readInstructionFile(fileOrPreset: string): Promise<InstructionSet> {
  if (isPresetName(fileOrPreset) && !fs.existsSync(fileOrPreset)) return { tasks: presetTasks(fileOrPreset), evaluation: {}, warnings: [] };
  const format = instructionFormat(fileOrPreset);
  if (!format) {
    throw new UserError(
      `unsupported instruction set: use a .json, .yaml or .yml file, or a preset (${PRESET_NAMES.join(', ')})`,
      fileOrPreset,
    );
  }
  const content = await readUtf8File(fileOrPreset);
  return instructionSetOf(fileOrPreset, parseInstructionDocument(content, format));
}

/** The parsed document as an instruction set: throws a UserError naming the first problem's line. */
export function instructionSetOf(file: string, parsed: InstructionDocument): InstructionSet {
  const { tasks, problems, evaluation } = parsed;
  if (problems.length > 0) {
    const [first] = problems;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more ${problems.length === 2 ? 'problem' : 'problems'})` : '';
    throw new UserError(first.message + more, file, first.line);
  }
  return {
    tasks: [{ name: BASE_TASK, instruction: null }, ...tasks.map(taskSpecOf)],
    evaluation: evaluationSourcesOf(file, evaluation),
    warnings: (parsed.warnings ?? []).map((warning) => `${file}:${warning.line}: ${warning.message}`),
  };
}

/** The evaluation block's paths (as parseInstructionDocument returns them) resolved against the instruction set's folder. */
export function evaluationSourcesOf(instructionFile: string, written: EvaluationSources | undefined): EvaluationSources {
  const sources: EvaluationSources = {};
  for (const field of EVALUATION_FIELDS) {
    const given = written?.[field];
    if (given !== undefined) sources[field] = path.resolve(path.dirname(instructionFile), given);
  }
  return sources;
}

/** The task as the embedding pipeline takes it (name, instruction and, when declared, kind). */
export function taskSpecOf(task: LocatedTask): TaskSpec {
  return task.kind === undefined ? { name: task.name, instruction: task.instruction } : { name: task.name, instruction: task.instruction, kind: task.kind };
}

export function parseInstructionDocument(content: string, format: InstructionFormat): InstructionDocument {
  const lineCounter = new LineCounter();
  const position = (offset: number): TextPosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: line - 1, character: col - 1 };
  };
  const rangeOf = (start: number, end: number): TextRange => ({ start: position(start), end: position(end) });
  const tasks: LocatedTask[] = [];
  const problems: InstructionProblem[] = [];
  const warnings: InstructionProblem[] = [];
  const problem = (message: string, start: number, end: number): void => {
    problems.push({ message, line: position(start).line + 1, range: rangeOf(start, end) });
  };
  const nodeSpan = (node: Node | null | undefined, fallback: [number, number]): [number, number] =>
    node?.range ? [node.range[0], node.range[1]] : fallback;

  const document = parseDocument(content, { lineCounter, uniqueKeys: true });
  if (content.trim() === '') {
    problem('the file is empty; expected { "tasks": [ { "name": ..., "instruction": ... } ] }', 0, 0);
    return { tasks, problems };
  }
  if (format === 'json') {
    try {
      JSON.parse(content);
    } catch {
      const syntax = jsonSyntaxError(content);
      problem(syntax.problem, syntax.offset, syntax.offset);
      return { tasks, problems };
    }
  }
  for (const site of yamlErrorSites(content, document.errors)) {
    problem(`invalid ${format === 'json' ? 'JSON' : 'YAML'}: ${site.message}`, site.start, site.end);
  }
  if (document.errors.length > 0) return { tasks, problems };

  const root = document.contents;
  const whole: [number, number] = [0, content.length];
  if (!isMap(root)) {
    const [s, e] = nodeSpan(root, whole);
    problem('expected a mapping with a "tasks" list', s, e);
    return { tasks, problems };
  }
  let taskList: Node | null | undefined;
  let hasTasks = false;
  let evaluation: EvaluationSources | undefined;
  let evaluationRanges: Partial<Record<EvaluationField, TextRange>> | undefined;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    const [s, e] = nodeSpan(pair.key as Node, whole);
    if (key === 'tasks') {
      hasTasks = true;
      taskList = pair.value as Node | null;
    } else if (key === 'evaluation') {
      const block = parseEvaluationBlock(pair.value as Node | null, [s, e], nodeSpan, problem);
      if (block) {
        evaluation = block.sources;
        evaluationRanges = {};
        for (const [field, span] of block.spans) evaluationRanges[field] = rangeOf(...span);
      }
    } else if (key === '$schema') {
      if (!(isScalar(pair.value) && typeof pair.value.value === 'string')) problem('"$schema" must be a string', s, e);
    } else {
      problem(`unknown field "${key ?? '?'}" (allowed: ${TOP_LEVEL_FIELDS.join(', ')})`, s, e);
    }
  }
  if (!hasTasks) {
    const [s, e] = nodeSpan(root, whole);
    problem('missing field "tasks" (a list of { name, instruction })', s, e);
    return { tasks, problems, evaluation, evaluationRanges };
  }
  if (!isSeq(taskList)) {
    const [s, e] = nodeSpan(taskList, nodeSpan(root, whole));
    problem('"tasks" must be a list of { name, instruction }', s, e);
    return { tasks, problems, evaluation, evaluationRanges };
  }
  if (taskList.items.length === 0) {
    const [s, e] = nodeSpan(taskList, whole);
    problem('"tasks" is empty: give at least one task besides Base', s, e);
  }

  /** Trimmed name -> its line and the name as written. */
  const firstByName = new Map<string, { line: number; written: string }>();
  /** Lower-cased name -> the name as written and its line: names become file names, which may ignore case. */
  const firstByFoldedName = new Map<string, { name: string; line: number }>();
  taskList.items.forEach((item, index) => {
    const [start, end] = nodeSpan(item as Node | null, nodeSpan(taskList as Node, whole));
    const label = `task ${index + 1}`;
    if (!isMap(item)) {
      problem(`${label}: expected a mapping with "name" and "instruction"`, start, end);
      return;
    }
    const fields = new Map<string, { key: [number, number]; value: Node | null }>();
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      const keySpan = nodeSpan(pair.key as Node, [start, end]);
      if (!TASK_FIELDS.includes(key)) problem(`${label}: unknown field "${key}" (allowed: ${TASK_FIELDS.join(', ')})`, ...keySpan);
      else fields.set(key, { key: keySpan, value: (pair.value as Node | null) ?? null });
    }
    const stringField = (field: string): { value: string; written: string; span: [number, number] } | undefined => {
      const entry = fields.get(field);
      if (!entry) {
        problem(`${label}: missing field "${field}"`, start, end);
        return undefined;
      }
      const node = entry.value;
      const span = nodeSpan(node, entry.key);
      if (!(isScalar(node) && typeof (node as Scalar).value === 'string')) {
        problem(`${label}: "${field}" must be a string`, ...span);
        return undefined;
      }
      const written = (node as Scalar).value as string;
      const value = written.trim();
      if (value === '') {
        problem(`${label}: "${field}" is empty`, ...span);
        return undefined;
      }
      const tooLong = textLengthProblem(value, `"${field}"`);
      if (tooLong !== undefined) {
        problem(`${label}: ${tooLong}`, ...span);
        return undefined;
      }
      return { value, written, span };
    };
    const name = stringField('name');
    const instruction = stringField('instruction');
    let kind: EvalKind | undefined;
    if (fields.has('kind')) {
      const entry = fields.get('kind')!;
      const value = isScalar(entry.value) ? (entry.value as Scalar).value : undefined;
      if (typeof value === 'string' && (EVAL_KINDS as readonly string[]).includes(value.trim())) kind = value.trim() as EvalKind;
      else problem(`${label}: "kind" must be one of ${EVAL_KINDS.join(', ')}`, ...nodeSpan(entry.value, entry.key));
    }
    if (name) {
      const line = position(name.span[0]).line + 1;
      if (name.value.toLowerCase() === BASE_TASK.toLowerCase()) {
        problem(`${label}: "${name.value}" is reserved: Base (no instruction) is always added first`, ...name.span);
      } else if (isCorpusTask(name.value)) {
        problem(`${label}: "${name.value}" is reserved: a bundle keeps the corpus documents' embeddings as ${CORPUS_TASK}.npy`, ...name.span);
      } else if (/[\r\n]/.test(name.value)) {
        problem(`${label}: the task name ${JSON.stringify(name.value)} contains a line break; a task name is one line`, ...name.span);
      } else if (firstByName.has(name.value)) {
        const first = firstByName.get(name.value)!;
        const asWritten =
          first.written === name.written
            ? ''
            : `; written ${JSON.stringify(first.written)} there and ${JSON.stringify(name.written)} here, equal once the whitespace at their ends is removed`;
        problem(`${label}: duplicate task name "${name.value}" (first on line ${first.line})${asWritten}`, ...name.span);
      } else if (firstByFoldedName.has(name.value.toLowerCase())) {
        const first = firstByFoldedName.get(name.value.toLowerCase())!;
        problem(
          `${label}: task names "${first.name}" (line ${first.line}) and "${name.value}" differ only in case; they would be ` +
            'the same file on case-insensitive file systems: rename one',
          ...name.span,
        );
      } else {
        firstByName.set(name.value, { line, written: name.written });
        firstByFoldedName.set(name.value.toLowerCase(), { name: name.value, line });
        if (name.written !== name.value) {
          warnings.push({
            message: `${label}: the task name ${JSON.stringify(name.written)} has whitespace at its start or end; it is used as ${JSON.stringify(name.value)}`,
            line,
            range: rangeOf(...name.span),
            severity: 'warning',
          });
        }
      }
    }
    if (name && instruction) {
      tasks.push({
        index,
        name: name.value,
        instruction: instruction.value,
        range: rangeOf(start, end),
        nameRange: rangeOf(...name.span),
        instructionRange: rangeOf(...instruction.span),
        ...(kind === undefined ? {} : { kind }),
      });
    }
  });
  return { tasks, problems, warnings, evaluation, evaluationRanges };
}

/** The `evaluation:` block: a mapping of pairs, corpus, qrels to non-empty path strings. */
function parseEvaluationBlock(
  node: Node | null,
  keySpan: [number, number],
  nodeSpan: (node: Node | null | undefined, fallback: [number, number]) => [number, number],
  problem: (message: string, start: number, end: number) => void,
): { sources: EvaluationSources; spans: Map<EvaluationField, [number, number]> } | undefined {
  if (!isMap(node)) {
    problem(`"evaluation" must be a mapping with ${EVALUATION_FIELDS.join(', ')} (paths relative to this file)`, ...nodeSpan(node, keySpan));
    return undefined;
  }
  const sources: EvaluationSources = {};
  const spans = new Map<EvaluationField, [number, number]>();
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '?';
    const span = nodeSpan(pair.key as Node, keySpan);
    const field = EVALUATION_FIELDS.find((f) => f === key);
    if (field === undefined) {
      problem(`evaluation: unknown field "${key}" (allowed: ${EVALUATION_FIELDS.join(', ')})`, ...span);
      continue;
    }
    const value = pair.value as Node | null;
    const text = isScalar(value) && typeof (value as Scalar).value === 'string' ? ((value as Scalar).value as string).trim() : undefined;
    if (text === undefined || text === '') problem(`evaluation: "${field}" must be a path (relative to this file)`, ...nodeSpan(value, span));
    else {
      sources[field] = text;
      spans.set(field, nodeSpan(value, span));
    }
  }
  if ((sources.corpus === undefined) !== (sources.qrels === undefined)) {
    const [given, missing] = sources.corpus !== undefined ? ['corpus', 'qrels'] : ['qrels', 'corpus'];
    problem(`evaluation: "${given}" is given without "${missing}": retrieval and reranking need both`, ...nodeSpan(node, keySpan));
  }
  return { sources, spans };
}
