/**
 * The evaluation inputs of docs/EVAL.md: labels in query files, STS pairs, corpora and qrels (BEIR's layout as is),
 * the instruction set's kind: and evaluation: block, the bundle's evaluation files, and documents embedded in the
 * family's document form through the cache. Every bad input: a UserError naming the file and 1-based line, and exit
 * code 2 through the real CLI. Property-based tests (fast-check) for the parsers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { UserError } from '../src/engine/errors';
import { readBundle, writeBundle } from '../src/engine/io/bundle';
import { EVALUATION_BUNDLE_FILES, mayHaveEvaluation } from '../src/engine/io/bundleEvaluation';
import { packageRoot } from '../src/engine/io/paths';
import { DEFAULT_TASK_KINDS } from '../src/engine/evaluation/types';
import type { EmbeddingBundle } from '../src/engine/types';
import {
  formatPairsTsv,
  formatQrelsTsv,
  homeKindsOf,
  parseCorpus,
  parsePairs,
  parseQrels,
  readCorpus,
  readQrels,
  resolveEvaluation,
} from '../src/inputs/evaluationFiles';
import { evaluationFileProblems } from '../src/inputs/evaluationFileProblems';
import { parseInstructionDocument, readInstructionFile, type TextRange } from '../src/inputs/instructions';
import { parseQueries, readQueries } from '../src/inputs/queries';
import { readDelimitedRows } from '../src/inputs/records';
import { EmbeddingCache } from '../src/models/cache';
import type { Embedder } from '../src/models/embedder';
import { familyById, FAMILY_IDS, renderDocument, resolveFamily } from '../src/models/families';
import { embedAll } from '../src/models/pipeline';
import { createBundleEmbedder } from '../src/models/bundleEmbedder';
import { createEmbedder } from '../src/models/registry';
import { assertNoStack, cli } from './helpers/cli';

const root = packageRoot();
const examples = path.join(root, 'examples', 'eval');
const glove = path.resolve(root, '../shared/models/glove-6B-100d-sif-50k');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'il-eval-inputs-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

/** Throws a UserError whose message is "file:line: problem" (or "file: problem" without a line). */
function assertUserError(error: unknown, file: string, line: number | undefined, problem: RegExp): true {
  assert.ok(error instanceof UserError, `expected a UserError, got ${(error as Error)?.stack ?? String(error)}`);
  const prefix = line === undefined ? `${file}: ` : `${file}:${line}: `;
  assert.ok(error.message.startsWith(prefix), `"${error.message}" should start with "${prefix}"`);
  assert.match(error.message.slice(prefix.length), problem);
  return true;
}

const throwsAt = (fn: () => unknown, file: string, line: number | undefined, problem: RegExp): void => {
  assert.throws(fn, (error: unknown) => assertUserError(error, file, line, problem));
};
const rejectsAt = (promise: Promise<unknown>, file: string, line: number | undefined, problem: RegExp): Promise<void> =>
  assert.rejects(promise, (error: unknown) => assertUserError(error, file, line, problem));

const QUERIES_CSV = 'id,text,label\nq1,first query,a\nq2,second query,a\nq3,third query,b\nq4,fourth query,b\n';

// ---------------------------------------------------------------------------------------------------------------

describe('evaluation files: formats', () => {
  test('pairs: TSV and CSV with a header, JSONL; extra columns ignored, scores as numbers', () => {
    const tsv = parsePairs('id1\tid2\tscore\tnote\nq1\tq2\t4.5\tx\nq3\tq4\t0\t\n', 'p.tsv');
    assert.deepEqual(tsv, [
      { id1: 'q1', id2: 'q2', score: 4.5, line: 2 },
      { id1: 'q3', id2: 'q4', score: 0, line: 3 },
    ]);
    assert.deepEqual(parsePairs('ID1,Id2,SCORE\r\n"q1", q2 ,1e0\r\n', 'p.csv'), [{ id1: 'q1', id2: 'q2', score: 1, line: 2 }]);
    assert.deepEqual(parsePairs('{"id1": "q1", "id2": 7, "score": 2.5}\n\n{"id1": "q3", "id2": "q4", "score": "3"}\n', 'p.jsonl'), [
      { id1: 'q1', id2: '7', score: 2.5, line: 1 },
      { id1: 'q3', id2: 'q4', score: 3, line: 3 },
    ]);
  });

  test('corpus: title + " " + text, the text alone without a title, the title alone without a text', () => {
    const corpus = parseCorpus(
      ['{"_id": "d1", "title": "Eggs", "text": "Boil six minutes.", "metadata": {}}', '{"_id": "d2", "title": "", "text": "No title."}', '{"id": 3, "text": " ", "title": "Title only"}'].join('\n'),
      'c.jsonl',
    );
    assert.deepEqual(corpus, { ids: ['d1', 'd2', '3'], texts: ['Eggs Boil six minutes.', 'No title.', 'Title only'], lines: [1, 2, 3] });
    assert.deepEqual(parseCorpus('id\ttext\nd1\t"a, b"\n', 'c.tsv'), { ids: ['d1'], texts: ['a, b'], lines: [2] });
  });

  test('qrels: BEIR header query-id corpus-id score, and query_id doc_id score', () => {
    assert.deepEqual(parseQrels('query-id\tcorpus-id\tscore\nq1\td1\t1\n', 'q.tsv'), [{ queryId: 'q1', docId: 'd1', score: 1, line: 2 }]);
    assert.deepEqual(parseQrels('query_id,doc_id,score\nq1,d1,2\nq1,d2,0\n', 'q.csv').map((q) => q.score), [2, 0]);
    assert.deepEqual(parseQrels('{"query-id": "q1", "corpus-id": "d1", "score": 1}\n', 'q.jsonl')[0].docId, 'd1');
  });

  test('the shipped example: 50 labelled queries, 302 documents, qrels and 40 pairs that all resolve', async () => {
    const queriesFile = path.join(examples, 'queries.csv');
    const queries = await readQueries(queriesFile);
    assert.equal(queries.queries.length, 50);
    assert.deepEqual([...new Set(queries.labels)], ['cooking', 'astronomy', 'gardening', 'finance', 'computing']);
    const set = await readInstructionFile(path.join(examples, 'tasks.instructions.yaml'));
    assert.deepEqual(set.evaluation, {
      pairs: path.join(examples, 'pairs.tsv'),
      corpus: path.join(examples, 'corpus.jsonl'),
      qrels: path.join(examples, 'qrels', 'test.tsv'),
    });
    const { evaluation, documents } = await resolveEvaluation(queriesFile, queries, set.evaluation, set.tasks);
    assert.ok(evaluation && documents);
    assert.equal(evaluation.corpusIds?.length, 302);
    assert.equal(documents.length, 302);
    assert.equal(evaluation.pairs?.a.length, 40);
    assert.ok(evaluation.pairs!.score.every((s) => s >= 0 && s <= 5));
    assert.deepEqual(evaluation.homeKinds, [null, 'retrieval', 'retrieval', 'reranking', 'sts', 'classification', 'clustering']);
    // Every query has a relevant document and some judged non-relevant candidates (reranking).
    for (let row = 0; row < 50; row++) {
      const scores = [...evaluation.qrels!.score].filter((_, i) => evaluation.qrels!.query[i] === row);
      assert.ok(scores.some((s) => s > 0) && scores.some((s) => s === 0), `query ${row + 1}`);
    }
  });
});

describe('BEIR layout read as is', () => {
  test('queries.jsonl (_id, text, metadata), corpus.jsonl and qrels/test.tsv', async () => {
    const queriesFile = write('beir/queries.jsonl', [
      '{"_id": "PLAIN-1", "text": "what is a light year", "metadata": {}}',
      '{"_id": "PLAIN-2", "text": "why is mars red", "metadata": {}}',
      '{"_id": "PLAIN-3", "text": "how many moons has jupiter", "metadata": {}}',
    ].join('\n') + '\n');
    const corpus = write('beir/corpus.jsonl', [
      '{"_id": "MED-1", "title": "Light-year", "text": "The distance light travels in a year.", "metadata": {"url": "x"}}',
      '{"_id": "MED-2", "title": "Mars", "text": "Iron oxide dust.", "metadata": {}}',
    ].join('\n') + '\n');
    const qrels = write('beir/qrels/test.tsv', 'query-id\tcorpus-id\tscore\nPLAIN-1\tMED-1\t2\nPLAIN-2\tMED-2\t1\nPLAIN-2\tMED-1\t0\n');
    const queries = await readQueries(queriesFile);
    assert.deepEqual(queries.ids, ['PLAIN-1', 'PLAIN-2', 'PLAIN-3']);
    const { evaluation, documents } = await resolveEvaluation(queriesFile, queries, { corpus, qrels }, [{ name: 'Base', instruction: null }]);
    assert.deepEqual(documents, ['Light-year The distance light travels in a year.', 'Mars Iron oxide dust.']);
    assert.deepEqual(evaluation?.corpusIds, ['MED-1', 'MED-2']);
    assert.deepEqual([...evaluation!.qrels!.query], [0, 1, 1]);
    assert.deepEqual([...evaluation!.qrels!.doc], [0, 1, 0]);
    assert.deepEqual([...evaluation!.qrels!.score], [2, 1, 0]);
  });

  test('without ids, query ids are the 1-based line numbers', async () => {
    const queriesFile = write('lines.txt', '# comment\nalpha\n\nbeta\ngamma\n');
    const pairs = write('lines-pairs.tsv', 'id1\tid2\tscore\n2\t4\t3\n4\t5\t1\n');
    const { evaluation } = await resolveEvaluation(queriesFile, await readQueries(queriesFile), { pairs }, [{ name: 'Base', instruction: null }]);
    assert.deepEqual(evaluation?.queryIds, ['2', '4', '5']);
    assert.deepEqual([...evaluation!.pairs!.a], [0, 1]);
    assert.deepEqual([...evaluation!.pairs!.b], [1, 2]);
  });

  test('nothing to evaluate: no labels and no files gives no evaluation data', async () => {
    const queriesFile = write('plain.txt', 'alpha\nbeta\ngamma\n');
    assert.deepEqual(await resolveEvaluation(queriesFile, await readQueries(queriesFile), {}, [{ name: 'Base', instruction: null }]), {});
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('bad evaluation inputs: file, line and problem', () => {
  const queriesFile = write('good.csv', QUERIES_CSV);
  const tasks = [{ name: 'Base', instruction: null }];
  const resolve = async (sources: { pairs?: string; corpus?: string; qrels?: string }) =>
    resolveEvaluation(queriesFile, await readQueries(queriesFile), sources, tasks);
  const corpus = write('good-corpus.jsonl', '{"_id": "d1", "text": "one"}\n{"_id": "d2", "text": "two"}\n');
  const qrels = write('good-qrels.tsv', 'query-id\tcorpus-id\tscore\nq1\td1\t1\n');

  test('query files: labels on some queries only, repeated id, empty id, a repeat with another label', () => {
    throwsAt(() => parseQueries('id,text,label\nq1,a,x\nq2,b,\nq3,c,y\n', 'l.csv'), 'l.csv', 3, /no label while others have one/);
    throwsAt(() => parseQueries('{"text": "a", "label": "x"}\n{"text": "b"}\n{"text": "c", "label": "y"}\n', 'l.jsonl'), 'l.jsonl', 2, /no label/);
    throwsAt(() => parseQueries('id,text\nq1,a\nq1,b\nq3,c\n', 'd.csv'), 'd.csv', 3, /duplicate id "q1" \(first on line 2\)/);
    throwsAt(() => parseQueries('id\ttext\nq1\ta\n \tb\nq3\tc\n', 'e.tsv'), 'e.tsv', 3, /"id" is empty/);
    throwsAt(() => parseQueries('{"_id": "", "text": "a"}\n', 'e.jsonl'), 'e.jsonl', 1, /"_id" is empty/);
    throwsAt(() => parseQueries('{"id": "a", "_id": "b", "text": "a"}\n', 'b.jsonl'), 'b.jsonl', 1, /both "id" and "_id"/);
    throwsAt(() => parseQueries('{"text": "a", "label": ["x"]}\n', 'x.jsonl'), 'x.jsonl', 1, /"label" must be a string or a number/);
    throwsAt(() => parseQueries('text,label\nalpha,x\nbeta,y\nalpha,z\n', 'r.csv'), 'r.csv', 4, /repeats the query on line 2 with another label \("z", there "x"\)/);
    throwsAt(() => parseQueries('id,text\na,alpha\nb,beta\nc,alpha\n', 'r2.csv'), 'r2.csv', 4, /repeats the query on line 2 with another id/);
  });

  test('pairs: unknown id, non-numeric score, no header, missing column, empty file, empty id', async () => {
    await rejectsAt(resolve({ pairs: write('p1.tsv', 'id1\tid2\tscore\nq1\tq2\t1\nq1\tq9\t2\n') }), path.join(dir, 'p1.tsv'), 3, /unknown query id "q9" \(not an id in .*good\.csv\)/);
    throwsAt(() => parsePairs('id1\tid2\tscore\nq1\tq2\thigh\n', 'p.tsv'), 'p.tsv', 2, /"score" must be a finite number \(got "high"\)/);
    throwsAt(() => parsePairs('id1\tid2\tscore\nq1\tq2\tNaN\n', 'p.tsv'), 'p.tsv', 2, /finite number/);
    throwsAt(() => parsePairs('{"id1": "q1", "id2": "q2", "score": null}\n', 'p.jsonl'), 'p.jsonl', 1, /finite number \(got null\)/);
    throwsAt(() => parsePairs('q1\tq2\t1\n', 'p.tsv'), 'p.tsv', 1, /expected a header row naming the columns id1, id2, score/);
    throwsAt(() => parsePairs('id1\tid2\tscore\nq1\tq2\n', 'p.tsv'), 'p.tsv', 2, /missing the "score" column/);
    throwsAt(() => parsePairs('id1\tid2\tscore\n', 'p.tsv'), 'p.tsv', undefined, /no pairs found/);
    throwsAt(() => parsePairs('id1,id2,score\n,q2,1\n', 'p.csv'), 'p.csv', 2, /"id1" is empty/);
    throwsAt(() => parsePairs('{"id1": "q1", "score": 1}\n', 'p.jsonl'), 'p.jsonl', 1, /missing field "id2"/);
    throwsAt(() => parsePairs('{"id1": "q1", "id2": "q2", "score": 1\n', 'p.jsonl'), 'p.jsonl', 1, /invalid JSON/);
    throwsAt(() => parsePairs('id1\tid2\tscore\n"q1\tq2\t1\n', 'p.tsv'), 'p.tsv', 2, /never closed/);
    throwsAt(() => parsePairs('id1 id2 score', 'p.txt'), 'p.txt', undefined, /unsupported pairs file extension '\.txt'/);
    throwsAt(() => parsePairs('id1\tid2\tscore\tID1\n', 'p.tsv'), 'p.tsv', 1, /names the "id1" column twice/);
    throwsAt(() => parseQrels('{"query-id": "q1", "Query_Id": "q2", "doc_id": "d", "score": 1}\n', 'q.jsonl'), 'q.jsonl', 1, /fields "query-id" and "Query_Id" are the same field/);
    assert.equal(parsePairs('{"id1": "a", "id2": "b", "score": 1, "Note": 1, "note": 2}\n', 'p.jsonl').length, 1);
    // Blank lines before a record count, with and without quotes in the file.
    throwsAt(() => parsePairs('\n\nid1\tid2\tscore\n\n"q1"\tq2\tx\n', 'p.tsv'), 'p.tsv', 5, /finite number/);
    throwsAt(() => parsePairs('\n\nid1\tid2\tscore\n\nq1\tq2\tx\n', 'p.tsv'), 'p.tsv', 5, /finite number/);
  });

  test('corpus: empty, repeated id, missing text, empty document', () => {
    throwsAt(() => parseCorpus('', 'c.jsonl'), 'c.jsonl', undefined, /the corpus is empty/);
    throwsAt(() => parseCorpus('id,text\n', 'c.csv'), 'c.csv', undefined, /the corpus is empty/);
    throwsAt(() => parseCorpus('{"_id": "d1", "text": "a"}\n{"_id": "d2", "text": "b"}\n{"_id": "d1", "text": "c"}\n', 'c.jsonl'), 'c.jsonl', 3, /document id "d1" repeats \(first on line 1\)/);
    throwsAt(() => parseCorpus('{"_id": "d1", "title": "t"}\n', 'c.jsonl'), 'c.jsonl', 1, /missing field "text"/);
    throwsAt(() => parseCorpus('{"_id": "d1", "text": 5}\n', 'c.jsonl'), 'c.jsonl', 1, /"text" must be a string/);
    throwsAt(() => parseCorpus('id\ttext\ttitle\nd1\t \t\n', 'c.tsv'), 'c.tsv', 2, /document "d1" is empty/);
    throwsAt(() => parseCorpus('doc\ttext\nd1\tx\n', 'c.tsv'), 'c.tsv', 1, /no "id" column/);
  });

  test('qrels: unknown query, unknown document, a pair listed twice, non-numeric score, corpus without qrels', async () => {
    const q1 = write('q1.tsv', 'query-id\tcorpus-id\tscore\nq1\td1\t1\nnobody\td1\t1\n');
    await rejectsAt(resolve({ corpus, qrels: q1 }), q1, 3, /unknown query id "nobody"/);
    const q2 = write('q2.tsv', 'query-id\tcorpus-id\tscore\nq1\td7\t1\n');
    await rejectsAt(resolve({ corpus, qrels: q2 }), q2, 2, /unknown document id "d7" \(not an id in .*good-corpus\.jsonl\)/);
    throwsAt(() => parseQrels('query_id,doc_id,score\nq1,d1,1\nq2,d1,1\nq1,d1,0\n', 'q.csv'), 'q.csv', 4, /listed twice \(also on line 2\)/);
    throwsAt(() => parseQrels('query_id,doc_id,score\nq1,d1,yes\n', 'q.csv'), 'q.csv', 2, /"score" must be a finite number \(got "yes"\)/);
    await rejectsAt(resolve({ corpus }), corpus, undefined, /corpus file is given without a qrels file/);
    await rejectsAt(resolve({ qrels }), qrels, undefined, /qrels file is given without a corpus file/);
  });

  test('missing and unreadable files', async () => {
    await rejectsAt(resolve({ pairs: path.join(dir, 'none.tsv') }), path.join(dir, 'none.tsv'), undefined, /file not found/);
    await rejectsAt(readCorpus(dir + path.sep), dir + path.sep, undefined, /this is a folder/);
    const latin1 = path.join(dir, 'latin1.tsv');
    fs.writeFileSync(latin1, Buffer.from('query_id\tdoc_id\tscore\nq\xe9\td1\t1\n', 'latin1'));
    await rejectsAt(readQrels(latin1), latin1, 2, /not valid UTF-8/);
  });

  test('instruction sets: bad kind, bad evaluation block, Corpus reserved; line numbers', async () => {
    const problems = (text: string) => parseInstructionDocument(text, 'yaml').problems.map((p) => `${p.line}: ${p.message}`);
    assert.deepEqual(problems('tasks:\n  - name: A\n    instruction: x\n    kind: ranking\n'), [
      '4: task 1: "kind" must be one of retrieval, reranking, sts, classification, clustering',
    ]);
    assert.deepEqual(problems('tasks:\n  - name: corpus\n    instruction: x\n'), [
      '2: task 1: "corpus" is reserved: a bundle keeps the corpus documents\' embeddings as Corpus.npy',
    ]);
    assert.deepEqual(problems('evaluation:\n  pairs: 3\n  labels: l.csv\ntasks:\n  - name: A\n    instruction: x\n'), [
      '2: evaluation: "pairs" must be a path (relative to this file)',
      '3: evaluation: unknown field "labels" (allowed: pairs, corpus, qrels)',
    ]);
    assert.deepEqual(problems('evaluation: data\ntasks:\n  - name: A\n    instruction: x\n'), [
      '1: "evaluation" must be a mapping with pairs, corpus, qrels (paths relative to this file)',
    ]);
    assert.deepEqual(problems('evaluation:\n  corpus: c.jsonl\ntasks:\n  - name: A\n    instruction: x\n'), [
      '2: evaluation: "corpus" is given without "qrels": retrieval and reranking need both',
    ]);
    const file = write('sets/bad.instructions.yaml', 'tasks:\n  - name: Retrieval\n    instruction: x\n    kind: sorting\n');
    await rejectsAt(readInstructionFile(file), file, 4, /"kind" must be one of/);
  });

  test('evaluation files as diagnostics: each problem on the path as written (exact line and column), JSON and YAML', () => {
    write('diag/data/pairs.tsv', 'id1\tid2\tscore\n');
    fs.mkdirSync(path.join(dir, 'diag', 'data', 'corpus.jsonl'), { recursive: true }); // a folder with a file's name
    write('diag/data/qrels.txt', 'query_id\tdoc_id\tscore\n');
    const fifo = path.join(dir, 'diag', 'data', 'fifo.tsv');
    const hasFifo = spawnSync('mkfifo', [fifo]).status === 0;
    /** The range of the n-th occurrence of `needle` in `text`, counted independently of the parser. */
    const rangeOf = (text: string, needle: string): TextRange => {
      const offset = text.indexOf(needle);
      assert.ok(offset >= 0, needle);
      const before = text.slice(0, offset).split('\n');
      const line = before.length - 1;
      const character = before.at(-1)!.length;
      return { start: { line, character }, end: { line, character: character + needle.length } };
    };
    const check = (name: string, text: string, format: 'json' | 'yaml', expected: [string, string][]): void => {
      const file = write(`diag/${name}`, text);
      const parsed = parseInstructionDocument(text, format);
      assert.deepEqual(parsed.problems, []);
      const problems = evaluationFileProblems(file, parsed);
      assert.deepEqual(
        problems.map(({ message, line, range }) => ({ message, line, range })),
        expected.map(([written, message]) => ({ message, line: rangeOf(text, written).start.line + 1, range: rangeOf(text, written) })),
      );
    };
    const yaml =
      'tasks:\n  - name: A\n    instruction: x\nevaluation:\n  pairs:   "data/missing.tsv"\n  corpus: data/corpus.jsonl\n  qrels: data/qrels.txt\n';
    check('set.instructions.yaml', yaml, 'yaml', [
      ['"data/missing.tsv"', 'evaluation: pairs file "data/missing.tsv": file not found'],
      ['data/corpus.jsonl', 'evaluation: corpus file "data/corpus.jsonl": this is a folder; expected a file'],
      ['data/qrels.txt', "evaluation: qrels file \"data/qrels.txt\": unsupported qrels file extension '.txt'; use one of .csv, .tsv, .jsonl, .ndjson"],
    ]);
    const json = '{\n  "tasks": [{ "name": "A", "instruction": "x" }],\n  "evaluation": { "pairs": "data/pairs.tsv",\n    "corpus": "../diag/data/none.jsonl", "qrels": "data/qrels.txt" }\n}\n';
    check('set.instructions.json', json, 'json', [
      ['"../diag/data/none.jsonl"', 'evaluation: corpus file "../diag/data/none.jsonl": file not found'],
      ['"data/qrels.txt"', "evaluation: qrels file \"data/qrels.txt\": unsupported qrels file extension '.txt'; use one of .csv, .tsv, .jsonl, .ndjson"],
    ]);
    if (hasFifo) {
      check('fifo.instructions.yaml', 'evaluation:\n  pairs: data/fifo.tsv\ntasks:\n  - name: A\n    instruction: x\n', 'yaml', [
        ['data/fifo.tsv', 'evaluation: pairs file "data/fifo.tsv": this is a named pipe (FIFO), not a regular file; only regular files are read'],
      ]);
    }
    // Not readable (root reads every file: this part runs for other users only).
    if (process.getuid?.() !== 0) {
      const locked = write('diag/data/locked.tsv', 'id1\tid2\tscore\n');
      fs.chmodSync(locked, 0o000);
      check('locked.instructions.yaml', 'evaluation:\n  pairs: data/locked.tsv\ntasks:\n  - name: A\n    instruction: x\n', 'yaml', [
        ['data/locked.tsv', 'evaluation: pairs file "data/locked.tsv": permission denied'],
      ]);
    }
    // Fine files: no problem; a block with its own problems gives file problems for its valid paths only.
    check('fine.instructions.yaml', 'evaluation:\n  pairs: data/pairs.tsv\ntasks:\n  - name: A\n    instruction: x\n', 'yaml', []);
    const broken = parseInstructionDocument('evaluation:\n  pairs: 3\n  corpus: data/none.jsonl\n  qrels: data/none.tsv\ntasks:\n  - name: A\n    instruction: x\n', 'yaml');
    assert.deepEqual(evaluationFileProblems(path.join(dir, 'diag', 'x.instructions.yaml'), broken).map((p) => p.line), [3, 4]);
    // The wrong kind's problem sits on its value, too.
    const kindText = 'tasks:\n  - name: A\n    instruction: x\n    kind:   ranking\n';
    const [kindProblem] = parseInstructionDocument(kindText, 'yaml').problems;
    assert.deepEqual(kindProblem.range, rangeOf(kindText, 'ranking'));
  });

  test('kinds: declared, or the paper\'s names by default, none for Base and other names', async () => {
    const file = write('sets/kinds.instructions.yaml', 'evaluation:\n  pairs: ../p.tsv\ntasks:\n  - name: Retrieval\n    instruction: a\n  - name: Mine\n    instruction: b\n    kind: sts\n  - name: Other\n    instruction: c\n  - name: Clustering\n    instruction: d\n    kind: classification\n');
    const set = await readInstructionFile(file);
    assert.deepEqual(set.evaluation, { pairs: path.join(dir, 'p.tsv') });
    assert.deepEqual(homeKindsOf(set.tasks), [null, 'retrieval', 'sts', null, 'classification']);
    assert.deepEqual(homeKindsOf(DEFAULT_TASK_KINDS.map(([name]) => ({ name }))), DEFAULT_TASK_KINDS.map(([, kind]) => kind));
    assert.deepEqual((await readInstructionFile('paper-en')).evaluation, {});
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** Ids and labels as users may write them: object-property names, unicode, quotes, tabs, commas; trimmed, no line breaks. */
const nameArbitrary = fc
  .oneof(
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', '"quoted"', 'a\tb', 'a,b', "it's", 'id1', 'score', '日本語', 'é', '🙂'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
    fc.string({ unit: fc.constantFrom('a', 'b', '"', '\t', ',', ' ', '_', 'ü', '\u00a0'), minLength: 1, maxLength: 8 }),
  )
  .map((s) => s.replace(/[\r\n\u2028\u2029]/g, '').trim())
  .filter((s) => s !== '' && !/^\s|\s$/.test(s) && s === s.trim());
const scoreArbitrary = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }));

/** A CSV or TSV cell quoted the standard way. */
function cell(value: string, delimiter: string): string {
  return value.includes('"') || value.includes(delimiter) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

describe('property-based: round trips and malformed lines', () => {
  test('pairs and qrels: formatted as TSV and read back exactly, whatever the ids', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ id1: nameArbitrary, id2: nameArbitrary, score: scoreArbitrary }), { minLength: 1, maxLength: 8 }), (pairs) => {
        const read = parsePairs(formatPairsTsv(pairs), 'p.tsv');
        assert.deepEqual(read.map(({ id1, id2, score }) => ({ id1, id2, score })), pairs.map((p) => ({ ...p, score: p.score === 0 ? 0 : p.score })));
        assert.deepEqual(read.map((p) => p.line), pairs.map((_, i) => i + 2));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({ queryId: nameArbitrary, docId: nameArbitrary, score: scoreArbitrary }), { minLength: 1, maxLength: 8, selector: (q) => `${q.queryId}\u0000${q.docId}` }), (qrels) => {
        const read = parseQrels(formatQrelsTsv(qrels), 'q.tsv');
        // -0 is written as 0.
        assert.deepEqual(read.map(({ queryId, docId, score }) => ({ queryId, docId, score })), qrels.map((q) => ({ ...q, score: q.score === 0 ? 0 : q.score })));
      }),
      { numRuns: 300 },
    );
  });

  test('corpus: JSONL and CSV with arbitrary ids, titles and texts', () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((s) => s.trim()).filter((s) => s !== '');
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({ id: nameArbitrary, title: fc.option(text, { nil: undefined }), text }), { minLength: 1, maxLength: 6, selector: (d) => d.id }), (docs) => {
        const expected = docs.map((d) => (d.title === undefined ? d.text : `${d.title} ${d.text}`));
        const jsonl = docs.map((d) => JSON.stringify({ _id: d.id, title: d.title ?? '', text: d.text })).join('\n');
        assert.deepEqual(parseCorpus(jsonl, 'c.jsonl').texts, expected);
        assert.deepEqual(parseCorpus(jsonl, 'c.jsonl').ids, docs.map((d) => d.id));
        const csv = ['id,title,text', ...docs.map((d) => [d.id, d.title ?? '', d.text].map((v) => cell(v, ',')).join(','))].join('\r\n');
        const read = parseCorpus(csv, 'c.csv');
        assert.deepEqual(read.ids, docs.map((d) => d.id));
        assert.deepEqual(read.texts, expected);
      }),
      { numRuns: 300 },
    );
  });

  test('query files: ids, labels and texts round-trip through CSV, TSV, JSONL and JSON', () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('#'));
    const rows = fc.uniqueArray(fc.record({ id: nameArbitrary, text, label: nameArbitrary }), { minLength: 3, maxLength: 8, selector: (r) => r.id })
      .filter((rs) => new Set(rs.map((r) => r.text)).size === rs.length);
    fc.assert(
      fc.property(rows, fc.constantFrom(',', '\t'), (queries, delimiter) => {
        const table = ['id', 'text', 'label'].join(delimiter) + '\n' + queries.map((q) => [q.id, q.text, q.label].map((v) => cell(v, delimiter)).join(delimiter)).join('\n');
        const jsonl = queries.map((q) => JSON.stringify({ _id: q.id, text: q.text, label: q.label })).join('\n');
        const json = JSON.stringify(queries.map((q) => ({ id: q.id, text: q.text, label: q.label })), null, 1);
        for (const read of [parseQueries(table, delimiter === ',' ? 'q.csv' : 'q.tsv'), parseQueries(jsonl, 'q.jsonl'), parseQueries(json, 'q.json')]) {
          assert.deepEqual(read.ids, queries.map((q) => q.id));
          assert.deepEqual(read.labels, queries.map((q) => q.label));
          assert.deepEqual(read.queries, queries.map((q) => q.text.trim()));
        }
      }),
      { numRuns: 300 },
    );
  });

  test('delimited rows: the fast path for text without quotes gives the parser\'s own cells and lines', () => {
    const unquoted = fc.string({ unit: fc.constantFrom('a', '1', '\t', ',', '\n', '\r', ' ', 'é', '#'), maxLength: 40 });
    fc.assert(
      fc.property(unquoted, fc.constantFrom<',' | '\t'>(',', '\t'), (text, delimiter) => {
        // A quoted record at the end sends the same rows through the parser's per-record line info.
        const general = readDelimitedRows(`${text}\n"quoted"\n`, 'x', delimiter);
        assert.equal(general.pop()?.cells[0], 'quoted');
        assert.deepEqual(readDelimitedRows(text, 'x', delimiter), general);
      }),
      { numRuns: 500 },
    );
  });

  test('a malformed line anywhere: a UserError naming that line', () => {
    const bad = fc.constantFrom(
      { tsv: 'q1\tq2\tnot-a-number', jsonl: '{"id1": "q1", "id2": "q2", "score": "x"}' },
      { tsv: '\tq2\t1', jsonl: '{"id1": "", "id2": "q2", "score": 1}' },
      { tsv: 'q1\tq2', jsonl: '{"id1": "q1", "score": 1}' },
      { tsv: 'q1\tq2\t1e999', jsonl: '{"id1": "q1", "id2": "q2", "score": 1e999}' },
      { tsv: 'q1\tq2\t--1', jsonl: '["q1", "q2", 1]' },
      { tsv: 'q1\tq2\t0x10', jsonl: '{"id1": "q1", "id2": "q2", "score": 1' },
    );
    fc.assert(
      fc.property(fc.array(fc.record({ id1: nameArbitrary, id2: nameArbitrary, score: scoreArbitrary }), { maxLength: 6 }), fc.nat(), bad, (pairs, at, line) => {
        const position = at % (pairs.length + 1);
        const good = formatPairsTsv(pairs).split('\n').slice(1, -1);
        good.splice(position, 0, line.tsv);
        throwsAt(() => parsePairs(`id1\tid2\tscore\n${good.join('\n')}\n`, 'p.tsv'), 'p.tsv', position + 2, /./);
        const jsonl = pairs.map((p) => JSON.stringify(p));
        jsonl.splice(position, 0, line.jsonl);
        throwsAt(() => parsePairs(jsonl.join('\n'), 'p.jsonl'), 'p.jsonl', position + 1, /./);
      }),
      { numRuns: 300 },
    );
  });

  test('any content: the parsers return or throw a UserError, never another exception', () => {
    const content = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.array(fc.string({ unit: fc.constantFrom('a', '1', '"', '\t', ',', '\n', '{', '}', ':', '_', '-', 'd', 'i', ' ', '\r', '[', ']'), maxLength: 12 }), { maxLength: 8 }).map((l) => l.join('\n')),
      fc.array(fc.jsonValue(), { maxLength: 5 }).map((values) => values.map((v) => JSON.stringify(v)).join('\n')),
    );
    const files = ['x.csv', 'x.tsv', 'x.jsonl'];
    fc.assert(
      fc.property(content, fc.constantFrom(...files), (text, file) => {
        for (const parse of [parsePairs, parseQrels, parseCorpus, parseQueries]) {
          try {
            parse(text, file);
          } catch (error) {
            assert.ok(error instanceof UserError, `${parse.name}(${JSON.stringify(text)}): ${(error as Error).stack}`);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------

function syntheticBundle(): EmbeddingBundle {
  const n = 4;
  const dims = [3, 2];
  const value = (seed: number) => Math.sin(seed) * 0.7;
  const matrix = (size: number, seed: number) => Float64Array.from({ length: size }, (_, i) => value(seed * 100 + i));
  const tasks = ['Base', '__proto__', 'Retrieval', 'constructor'];
  return {
    models: ['m/one', 'two'],
    tasks,
    n,
    dims,
    embeddings: dims.map((d, m) => tasks.map((_, t) => matrix(n * d, m * 10 + t + 1))),
    queries: ['a "quoted" query', 'tab\there', 'ünïcode', 'fourth'],
    evaluation: {
      queryIds: ['__proto__', 'q "2"', 'q\t3', '日本'],
      labels: ['constructor', 'constructor', 'b', 'b'],
      pairs: { a: Int32Array.from([0, 2]), b: Int32Array.from([1, 3]), score: Float64Array.from([4.25, 0]) },
      corpusIds: ['toString', 'd\t2', 'd"3'],
      qrels: { query: Int32Array.from([0, 0, 3]), doc: Int32Array.from([0, 2, 1]), score: Float64Array.from([2, 0, 1]) },
      homeKinds: [null, 'sts', 'retrieval', null],
    },
    corpus: dims.map((d, m) => matrix(3 * d, 50 + m)),
  };
}

describe('bundle: the evaluation files', () => {
  test('writeBundle -> readBundle: ids, labels, pairs, qrels, kinds and the corpus (float32) come back', async () => {
    const bundle = syntheticBundle();
    const out = path.join(dir, 'bundle-eval');
    await writeBundle(out, bundle);
    assert.deepEqual(fs.readdirSync(out).sort(), ['corpus_ids.txt', 'kinds.json', 'm%2Fone', 'models.txt', 'pairs.tsv', 'qrels.tsv', 'queries.jsonl', 'tasks.txt', 'two']);
    assert.ok(fs.existsSync(path.join(out, 'two', 'Corpus.npy')));
    const read = await readBundle(out);
    assert.deepEqual(read.tasks, bundle.tasks);
    assert.deepEqual(read.queries, bundle.queries);
    assert.deepEqual(read.evaluation, bundle.evaluation);
    assert.deepEqual(read.corpus, bundle.corpus!.map((m) => Float64Array.from(new Float32Array(m))));
    // Written again over itself (--force): every evaluation file counts as a bundle file.
    await writeBundle(out, read, { overwrite: true });
    assert.deepEqual((await readBundle(out)).evaluation, bundle.evaluation);
  });

  test('a bundle made elsewhere: BEIR qrels header, no kinds.json (paper names get their kinds), ids default to row numbers', async () => {
    const bundle = syntheticBundle();
    bundle.tasks = ['Base', 'Retrieval', 'STS', 'Mine'];
    const out = path.join(dir, 'bundle-python');
    await writeBundle(out, bundle);
    fs.rmSync(path.join(out, 'kinds.json'));
    fs.writeFileSync(path.join(out, 'queries.jsonl'), '{"label": "x"}\n{"label": "x"}\n{"label": "y"}\n{"label": "y"}\n');
    fs.writeFileSync(path.join(out, 'pairs.tsv'), 'id1\tid2\tscore\n1\t4\t2\n');
    fs.writeFileSync(path.join(out, 'qrels.tsv'), 'query-id\tcorpus-id\tscore\n2\ttoString\t1\n');
    const read = await readBundle(out);
    assert.equal(read.queries, undefined);
    assert.deepEqual(read.evaluation?.queryIds, ['1', '2', '3', '4']);
    assert.deepEqual(read.evaluation?.labels, ['x', 'x', 'y', 'y']);
    assert.deepEqual(read.evaluation?.homeKinds, [null, 'retrieval', 'sts', null]);
    assert.deepEqual([...read.evaluation!.pairs!.b], [3]);
    assert.deepEqual([...read.evaluation!.qrels!.query], [1]);
  });

  test('mayHaveEvaluation: a bundle folder with any evaluation file; not one without, nor a .jsonl bundle', async () => {
    const out = path.join(dir, 'bundle-may-evaluate');
    await writeBundle(out, syntheticBundle());
    assert.equal(mayHaveEvaluation(out), true);
    for (const name of EVALUATION_BUNDLE_FILES) fs.rmSync(path.join(out, name), { force: true });
    assert.equal(mayHaveEvaluation(out), false);
    fs.writeFileSync(path.join(out, 'qrels.tsv'), 'query-id\tcorpus-id\tscore\n');
    assert.equal(mayHaveEvaluation(out), true);
    const jsonl = path.join(dir, 'vectors.jsonl');
    fs.writeFileSync(jsonl, '');
    assert.equal(mayHaveEvaluation(jsonl), false);
  });

  test('bad bundle evaluation files name the file and line', async () => {
    const fresh = async (name: string) => {
      const out = path.join(dir, name);
      await writeBundle(out, syntheticBundle());
      return out;
    };
    let out = await fresh('bad-1');
    fs.appendFileSync(path.join(out, 'pairs.tsv'), 'nobody\t__proto__\t1\n');
    await rejectsAt(readBundle(out), path.join(out, 'pairs.tsv'), 4, /unknown query id "nobody"/);
    out = await fresh('bad-2');
    fs.rmSync(path.join(out, 'two', 'Corpus.npy'));
    await rejectsAt(readBundle(out), path.join(out, 'two'), undefined, /Corpus\.npy is missing/);
    out = await fresh('bad-3');
    fs.appendFileSync(path.join(out, 'corpus_ids.txt'), 'one more\n');
    await rejectsAt(readBundle(out), path.join(out, 'm%2Fone', 'Corpus.npy'), undefined, /3 rows but corpus_ids\.txt lists 4 documents/);
    out = await fresh('bad-4');
    fs.writeFileSync(path.join(out, 'queries.txt'), 'a\nb\nc\nd\n');
    await rejectsAt(readBundle(out), out, undefined, /both queries\.txt and queries\.jsonl/);
    out = await fresh('bad-5');
    fs.writeFileSync(path.join(out, 'queries.jsonl'), '{"id": "a", "label": "x"}\n{"id": "b"}\n{"id": "c", "label": "y"}\n{"id": "d", "label": "y"}\n');
    await rejectsAt(readBundle(out), path.join(out, 'queries.jsonl'), 2, /no "label" while others have one/);
    out = await fresh('bad-6');
    fs.rmSync(path.join(out, 'corpus_ids.txt'));
    await rejectsAt(readBundle(out), path.join(out, 'm%2Fone', 'Corpus.npy'), undefined, /needs corpus_ids\.txt/);
    out = await fresh('bad-7');
    fs.writeFileSync(path.join(out, 'kinds.json'), '{"Retrieval": "search"}');
    await rejectsAt(readBundle(out), path.join(out, 'kinds.json'), undefined, /kind of task 'Retrieval' must be one of/);
    out = await fresh('bad-8');
    fs.writeFileSync(path.join(out, 'corpus_ids.txt'), 'toString\ntoString\nx\n');
    await rejectsAt(readBundle(out), path.join(out, 'corpus_ids.txt'), 2, /document id "toString" repeats \(first on line 1\)/);
  });

  test('a JSON Lines bundle with a task named Corpus is refused', async () => {
    const records = [0, 1, 2].flatMap((index) => ['Base', 'Corpus'].map((task) => JSON.stringify({ model: 'm', task, index, vector: [1, index] })));
    const file = write('corpus-task.jsonl', records.join('\n') + '\n');
    await rejectsAt(readBundle(file), file, undefined, /Corpus is reserved for corpus documents/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('documents: the family\'s document form, embedded once per model through the cache', () => {
  test('document forms (EVAL.md "What is embedded")', () => {
    const forms = new Map(FAMILY_IDS.map((id) => [id, renderDocument(familyById(id), 'a {query} doc')]));
    assert.deepEqual([...forms], [
      ['qwen3-embedding', 'a {query} doc'],
      ['e5-instruct', 'a {query} doc'],
      ['e5-mistral', 'a {query} doc'],
      ['instructor', 'Represent the document for retrieval:\u001fa {query} doc'],
      ['bge-v1.5', 'a {query} doc'],
      ['multilingual-e5', 'passage: a {query} doc'],
      ['ruri-v3', '検索文書: a {query} doc'],
      ['generic', 'a {query} doc'],
    ]);
    assert.equal(renderDocument(resolveFamily('intfloat/multilingual-e5-small'), 'x'), 'passage: x');
    assert.equal(renderDocument(resolveFamily('cl-nagoya/ruri-v3-30m'), 'x'), '検索文書: x');
  });

  let embedder: Embedder;
  let recorded: string[][] = [];
  before(async () => {
    const inner = await createEmbedder(glove, { offline: true, cacheDir: path.join(dir, 'hub') });
    embedder = {
      name: inner.name,
      identity: () => inner.identity(),
      render: (instruction, query) => inner.render(instruction, query),
      renderDocument: (text) => `passage: ${inner.renderDocument(text)}`, // a visible document form
      embed: (texts, options) => {
        recorded.push(texts);
        return inner.embed(texts, options);
      },
      dispose: () => inner.dispose(),
    };
  });
  after(() => embedder.dispose());

  test('bundle.corpus holds each document embedded in the document form; a second run reads them all from the cache', async () => {
    const cache = new EmbeddingCache(path.join(dir, 'cache'));
    const queries = ['how long to boil an egg', 'why is mars red', 'what is compound interest'];
    const documents = ['Eggs Boil them for six minutes.', 'Mars is covered in rusty dust.', 'why is mars red'];
    const tasks = [{ name: 'Base', instruction: null }, { name: 'Retrieval', instruction: 'Retrieve passages.' }];
    const first = await embedAll({ queries, documents, tasks, embedders: [embedder], cache });
    assert.equal(recorded.length, 1, 'one embed() call for queries and documents');
    assert.deepEqual(recorded[0].filter((t) => t.startsWith('passage: ')).sort(), documents.map((d) => `passage: ${d}`).sort());
    assert.equal(first.stats.misses, queries.length * 2 + documents.length);
    const dim = first.bundle.dims[0];
    const direct = await embedder.embed(documents.map((d) => embedder.renderDocument(d)));
    assert.equal(first.bundle.corpus?.length, 1);
    documents.forEach((_, i) => assert.deepEqual(first.bundle.corpus![0].subarray(i * dim, (i + 1) * dim), Float64Array.from(direct[i])));
    // The third document equals a query's text but not its rendered form: it is embedded as a document.
    assert.notDeepEqual(first.bundle.corpus![0].subarray(2 * dim, 3 * dim), first.bundle.embeddings[0][0].subarray(dim, 2 * dim));

    recorded = [];
    const second = await embedAll({ queries, documents, tasks, embedders: [embedder], cache });
    assert.deepEqual(recorded, [], 'nothing embedded');
    assert.deepEqual(second.stats, { hits: queries.length * 2 + documents.length, misses: 0 });
    assert.deepEqual(second.bundle.corpus, first.bundle.corpus);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('CLI: bad evaluation inputs exit 2 with file and line, before any embedding', () => {
  const queriesFile = write('cli/queries.csv', QUERIES_CSV);
  const corpus = write('cli/corpus.jsonl', '{"_id": "d1", "text": "one"}\n');
  const cases: { name: string; args: string[]; where: string; problem: RegExp }[] = [
    { name: 'labels on some queries only', args: ['--queries', write('cli/some-labels.csv', 'id,text,label\nq1,a,x\nq2,b,\nq3,c,y\n')], where: 'some-labels.csv:3', problem: /no label while others have one/ },
    { name: 'unknown id in the pairs', args: ['--pairs', write('cli/pairs.tsv', 'id1\tid2\tscore\nq1\tq5\t1\n')], where: 'pairs.tsv:2', problem: /unknown query id "q5"/ },
    { name: 'non-numeric score', args: ['--pairs', write('cli/pairs-score.tsv', 'id1\tid2\tscore\nq1\tq2\tabc\n')], where: 'pairs-score.tsv:2', problem: /finite number/ },
    { name: 'empty corpus', args: ['--corpus', write('cli/empty.jsonl', '\n'), '--qrels', write('cli/qrels.tsv', 'query-id\tcorpus-id\tscore\nq1\td1\t1\n')], where: 'empty.jsonl', problem: /the corpus is empty/ },
    { name: 'a corpus id that repeats', args: ['--corpus', write('cli/repeat.jsonl', '{"_id": "d1", "text": "a"}\n{"_id": "d1", "text": "b"}\n'), '--qrels', path.join(dir, 'cli/qrels.tsv')], where: 'repeat.jsonl:2', problem: /repeats/ },
    { name: 'unknown document in the qrels', args: ['--corpus', corpus, '--qrels', write('cli/qrels-doc.tsv', 'query-id\tcorpus-id\tscore\nq1\td9\t1\n')], where: 'qrels-doc.tsv:2', problem: /unknown document id "d9"/ },
    { name: 'corpus without qrels', args: ['--corpus', corpus], where: 'corpus.jsonl', problem: /without a qrels file/ },
    { name: 'a missing pairs file', args: ['--pairs', path.join(dir, 'cli', 'nowhere.tsv')], where: 'nowhere.tsv', problem: /file not found/ },
    { name: 'a label with one query', args: ['--queries', write('cli/lonely-label.csv', 'id,text,label\nq1,a,x\nq2,b,x\nq3,c,y\nq4,d,z\nq5,e,z\n')], where: 'lonely-label.csv:4', problem: /label "y" has only this query/ },
    { name: 'one label for every query', args: ['--queries', write('cli/one-label.csv', 'id,text,label\nq1,a,x\nq2,b,x\nq3,c,x\n')], where: 'one-label.csv', problem: /need at least 2 labels/ },
    { name: 'a task named Corpus', args: ['--instructions', write('cli/corpus.instructions.json', '{"tasks": [{"name": "Corpus", "instruction": "x"}]}')], where: 'corpus.instructions.json:1', problem: /reserved/ },
  ];
  for (const { name, args, where, problem } of cases) {
    test(name, async () => {
      const all = ['run', '--queries', queriesFile, '--instructions', 'paper-en', '--models', glove, '--offline', '--cache', path.join(dir, 'cli-cache'), '--out', path.join(dir, 'cli-out', name), ...args];
      // A later --queries or --instructions replaces the default one (parseArgs keeps the last).
      const run = await cli(...all);
      assert.equal(run.status, 2, run.stderr);
      assert.ok(run.stderr.includes(where), `"${run.stderr}" should name ${where}`);
      assert.match(run.stderr, problem);
      assert.doesNotMatch(run.stderr, /embedding \d+ queries/);
      assertNoStack(run.stderr);
      assert.ok(!fs.existsSync(path.join(dir, 'cli-out', name)), 'nothing written');
    });
  }
});

test('embedAll refuses a task named Corpus (any case) before embedding', async () => {
  const never: Embedder = {
    name: 'never',
    identity: async () => 'never',
    render: (instruction, query) => `${instruction ?? ''}${query}`,
    renderDocument: (text) => text,
    embed: async () => assert.fail('nothing may be embedded'),
    dispose: async () => undefined,
  };
  await assert.rejects(
    embedAll({ queries: ['a', 'b', 'c'], tasks: [{ name: 'Base', instruction: null }, { name: 'CORPUS', instruction: 'x' }], embedders: [never] }),
    (error: unknown) => error instanceof UserError && /"CORPUS" is reserved/.test(error.message),
  );
});

test('a bundle as a model cannot embed corpus documents: a clear UserError naming the bundle', async () => {
  const out = path.join(dir, 'bundle-as-model');
  const bundle = syntheticBundle();
  bundle.models = ['one'];
  bundle.dims = [3];
  bundle.embeddings = [bundle.embeddings[0]];
  bundle.corpus = [bundle.corpus![0]];
  await writeBundle(out, bundle);
  const embedder = await createBundleEmbedder(out);
  const [vector] = await embedder.embed([embedder.render(null, 'fourth')]);
  assert.deepEqual(vector, new Float32Array(bundle.embeddings[0][0].subarray(9, 12)));
  await rejectsAt(embedder.embed([embedder.renderDocument('a document')]), out, undefined, /cannot embed corpus documents/);
});
