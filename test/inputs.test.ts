import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { packageRoot } from '../src/engine/io/paths';
import { UserError } from '../src/engine/errors';
import { readQueries } from '../src/inputs/queries';
import { parseInstructionDocument, readInstructionSet, TextRange } from '../src/inputs/instructions';
import { PRESETS, presetTasks } from '../src/inputs/presets';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'il-inputs-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

const example = (name: string): string => path.join(packageRoot(), 'examples', name);

/** Rejects with a UserError whose message is "file:line: ..." matching `problem`. */
async function rejectsWith(promise: Promise<unknown>, file: string, line: number | undefined, problem: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UserError, `expected a UserError, got ${error}`);
    const prefix = line === undefined ? `${file}: ` : `${file}:${line}: `;
    assert.ok(error.message.startsWith(prefix), `"${error.message}" should start with "${prefix}"`);
    assert.match(error.message.slice(prefix.length), problem);
    return true;
  });
}

// ---------- query files ----------

test('txt: BOM, CRLF, comments and blank lines skipped, duplicates reported and kept once', async () => {
  const file = write('q.txt', '\uFEFF# comment\r\nfirst query\r\n\r\n  second query  \r\nfirst query\r\nthird query\r\n#x\r\nsecond query');
  const result = await readQueries(file);
  assert.deepEqual(result.queries, ['first query', 'second query', 'third query']);
  assert.deepEqual(result.lines, [2, 4, 6]);
  assert.equal(result.ids, undefined);
  assert.deepEqual(result.duplicates, [
    { text: 'first query', lines: [2, 5] },
    { text: 'second query', lines: [4, 8] },
  ]);
});

test('jsonl: text or query field, ids, string lines, blank lines', async () => {
  const file = write(
    'q.jsonl',
    ['{"id": "a", "text": "alpha", "label": "x"}', '', '{"id": 2, "query": "beta", "label": 7}', '{"_id": "c", "text": "  gamma ", "label": " y "}', '{"id": "a", "text": "alpha", "label": "x"}'].join('\n') + '\n',
  );
  const result = await readQueries(file);
  assert.deepEqual(result.queries, ['alpha', 'beta', 'gamma']);
  assert.deepEqual(result.lines, [1, 3, 4]);
  assert.deepEqual(result.ids, ['a', '2', 'c']);
  assert.deepEqual(result.labels, ['x', '7', 'y']);
  assert.deepEqual(result.duplicates, [{ text: 'alpha', lines: [1, 5] }]);
  const plain = await readQueries(write('s.jsonl', '"one"\n"two"\n"three"\n'));
  assert.deepEqual(plain.queries, ['one', 'two', 'three']);
});

test('csv: header with text and id, quoted fields with commas, quotes and newlines, CRLF', async () => {
  const file = write(
    'q.csv',
    '\uFEFFid,text,label\r\n1,"hello, world",a\r\n2,"a query\r\nover two lines",b\r\n3,"she said ""hi""",c\r\n1,"hello, world",a\r\n',
  );
  const result = await readQueries(file);
  assert.deepEqual(result.queries, ['hello, world', 'a query\nover two lines', 'she said "hi"']);
  assert.deepEqual(result.lines, [2, 3, 5]);
  assert.deepEqual(result.ids, ['1', '2', '3']);
  assert.deepEqual(result.labels, ['a', 'b', 'c']);
  assert.deepEqual(result.duplicates, [{ text: 'hello, world', lines: [2, 6] }]);
});

test('csv without a text/query header: every row is data, first column', async () => {
  const result = await readQueries(write('nohead.csv', 'red apples,1\n"pears, green",2\nplums,3\n'));
  assert.deepEqual(result.queries, ['red apples', 'pears, green', 'plums']);
});

test('tsv: query column, commas and stray quotes are plain text', async () => {
  const result = await readQueries(write('q.tsv', 'label\tquery\nx\tone, two\ny\tthe "best" pizza\nz\tthree\n'));
  assert.deepEqual(result.queries, ['one, two', 'the "best" pizza', 'three']);
});

test('json: array of strings and array of objects with ids', async () => {
  const strings = await readQueries(write('s.json', '[\n  "one",\n  "two",\n  "one",\n  "three"\n]\n'));
  assert.deepEqual(strings.queries, ['one', 'two', 'three']);
  assert.deepEqual(strings.duplicates, [{ text: 'one', lines: [2, 4] }]);
  const objects = await readQueries(write('o.json', JSON.stringify([{ id: 'x', text: 'a' }, { id: 'y', query: 'b' }, { id: 'z', text: 'c' }])));
  assert.deepEqual(objects.queries, ['a', 'b', 'c']);
  assert.deepEqual(objects.ids, ['x', 'y', 'z']);
});

test('example query files: at least 60 distinct queries each', async () => {
  for (const name of ['queries-en.txt', 'queries-ja.txt']) {
    const result = await readQueries(example(name));
    assert.ok(result.queries.length >= 60, `${name}: ${result.queries.length}`);
    assert.deepEqual(result.duplicates, []);
  }
});

test('bad query files: each names the file, the line and the problem', async () => {
  const lines = ['{"text": "a"}', '{"text": "b"}', '{"text": "c"}', '{"text": "d"}', '{"text": "e"}', '{"text": "f"}', '{"text": "g",}'];
  let f = write('bad7.jsonl', lines.join('\n'));
  await rejectsWith(readQueries(f), f, 7, /^invalid JSON/);
  f = write('missing.jsonl', '{"text": "a"}\n{"text": "b"}\n{"title": "c"}\n');
  await rejectsWith(readQueries(f), f, 3, /missing "text" \(or "query"\) field/);
  f = write('both.jsonl', '{"text": "a", "query": "b"}\n');
  await rejectsWith(readQueries(f), f, 1, /both "text" and "query"/);
  f = write('type.jsonl', '{"text": "a"}\n{"text": 5}\n');
  await rejectsWith(readQueries(f), f, 2, /"text" must be a string/);
  f = write('emptytext.jsonl', '{"text": "a"}\n{"text": "   "}\n');
  await rejectsWith(readQueries(f), f, 2, /query text is empty/);
  f = write('array.jsonl', '{"text": "a"}\n[1, 2]\n');
  await rejectsWith(readQueries(f), f, 2, /expected a string or an object/);
  f = write('ids.jsonl', '{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n{"text": "c"}\n');
  await rejectsWith(readQueries(f), f, 3, /no id while others have one/);
  f = write('dupid.jsonl', '{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n{"id": 1, "text": "c"}\n');
  await rejectsWith(readQueries(f), f, 3, /duplicate id "1" \(first on line 1\)/);
  f = write('empty.txt', '');
  await rejectsWith(readQueries(f), f, undefined, /no queries found/);
  f = write('comments.txt', '# only\n\n# comments\n');
  await rejectsWith(readQueries(f), f, undefined, /no queries found/);
  f = write('two.txt', 'a\nb\na\n');
  await rejectsWith(readQueries(f), f, undefined, /only 2 distinct queries; at least 3 are needed/);
  f = write('q.docx', 'a\nb\nc\n');
  await rejectsWith(readQueries(f), f, undefined, /unsupported query file extension '\.docx'/);
  f = path.join(dir, 'nothere.txt');
  await rejectsWith(readQueries(f), f, undefined, /file not found/);
  f = write('utf16.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a\nb\nc\n', 'utf16le')]));
  await rejectsWith(readQueries(f), f, undefined, /UTF-16/);
  f = write('utf16nobom.txt', Buffer.from('a\nb\nc\n', 'utf16le'));
  await rejectsWith(readQueries(f), f, 1, /NUL bytes/);
  f = write('latin1.txt', Buffer.concat([Buffer.from('caf\u00e9 ok\n', 'utf8'), Buffer.from('na\u00efve\n', 'latin1'), Buffer.from('c\n')]));
  await rejectsWith(readQueries(f), f, 2, /not valid UTF-8/);
  f = write('bad.json', '[\n  "a",\n  "b"\n  "c"\n]\n');
  await rejectsWith(readQueries(f), f, 4, /^invalid JSON/);
  f = write('truncated.json', '[\n  "a",\n  "b",\n');
  await rejectsWith(readQueries(f), f, 3, /^invalid JSON/);
  f = write('object.json', '{"queries": ["a", "b", "c"]}');
  await rejectsWith(readQueries(f), f, 1, /expected a JSON array/);
  f = write('item.json', '[\n  "a",\n  "b",\n  {"name": "c"}\n]');
  await rejectsWith(readQueries(f), f, 4, /^item 3: missing "text"/);
  f = write('quote.csv', 'text\na\n\n"b\nc\n');
  await rejectsWith(readQueries(f), f, 4, /invalid CSV: a quoted field starting on this line is never closed/);
  f = write('quote.tsv', 'query\tid\na\t1\nb\t2\nc"d\t"3\n');
  await rejectsWith(readQueries(f), f, 4, /invalid TSV/);
  f = write('idonly.csv', 'id,sentence\n1,a\n2,b\n3,c\n');
  await rejectsWith(readQueries(f), f, 1, /"id" column but no "text" or "query" column/);
  f = write('short.csv', 'id,text\n1,a\n2\n3,c\n');
  await rejectsWith(readQueries(f), f, 3, /missing the "text" column/);
  f = write('emptycell.csv', 'text\na\n""\nc\n');
  await rejectsWith(readQueries(f), f, 3, /query text is empty/);
});

// ---------- instruction sets ----------

test('instruction set JSON: Base first, tasks in order, trimmed', async () => {
  const file = write(
    'set.json',
    JSON.stringify({ tasks: [{ name: ' Retrieval ', instruction: ' Find passages. ' }, { name: 'STS', instruction: 'Find similar text.' }] }, null, 2),
  );
  assert.deepEqual(await readInstructionSet(file), [
    { name: 'Base', instruction: null },
    { name: 'Retrieval', instruction: 'Find passages.' },
    { name: 'STS', instruction: 'Find similar text.' },
  ]);
});

test('instruction set files with a BOM and CRLF line endings', async () => {
  const json = write('bom.json', '\uFEFF{\r\n  "tasks": [\r\n    { "name": "A", "instruction": "x" }\r\n  ]\r\n}\r\n');
  assert.deepEqual(await readInstructionSet(json), [{ name: 'Base', instruction: null }, { name: 'A', instruction: 'x' }]);
  const yaml = write('bom.yaml', '\uFEFFtasks:\r\n  - name: A\r\n    instruction: x\r\n');
  assert.deepEqual(await readInstructionSet(yaml), [{ name: 'Base', instruction: null }, { name: 'A', instruction: 'x' }]);
});

test('instruction set YAML with a block scalar and comments', async () => {
  const file = write('set.yml', '# mine\ntasks:\n  - name: Topic\n    instruction: |\n      Identify the topic\n      of the query.\n  - {name: Q, instruction: "Answer it."}\n');
  assert.deepEqual(await readInstructionSet(file), [
    { name: 'Base', instruction: null },
    { name: 'Topic', instruction: 'Identify the topic\nof the query.' },
    { name: 'Q', instruction: 'Answer it.' },
  ]);
});

test('presets match METHOD.md and the paper, and the example files equal them', async () => {
  const methodRows = fs
    .readFileSync(path.resolve(packageRoot(), '../shared/docs/METHOD.md'), 'utf8')
    .split('\n')
    .filter((line) => /^\| (Retrieval|Reranking|STS|Classification|Clustering) \|/.test(line))
    .map((line) => line.split('|').map((cell) => cell.trim()));
  const paper = fs.readFileSync(path.resolve(packageRoot(), '../shared/seed/paper-ja.txt'), 'utf8');
  assert.deepEqual(PRESETS['paper-ja'].map((t) => t.name), methodRows.map((row) => row[1]));
  methodRows.forEach(([, name, ja, en], i) => {
    assert.equal(PRESETS['paper-ja'][i].instruction, ja);
    assert.equal(PRESETS['paper-en'][i].name, name);
    assert.equal(PRESETS['paper-en'][i].instruction, en);
    assert.ok(paper.includes(`| ${name} | ${ja} |`), `paper Table 2 row for ${name}`);
  });
  assert.deepEqual(await readInstructionSet('paper-en'), presetTasks('paper-en'));
  assert.deepEqual(await readInstructionSet('paper-ja'), presetTasks('paper-ja'));
  assert.deepEqual(await readInstructionSet(example('paper-en.instructions.json')), presetTasks('paper-en'));
  assert.deepEqual(await readInstructionSet(example('paper-ja.instructions.yaml')), presetTasks('paper-ja'));
  assert.equal(presetTasks('paper-en')[0].name, 'Base');
  assert.equal(presetTasks('paper-en')[0].instruction, null);
});

test('bad instruction sets: each names the file, the line and the problem', async () => {
  const json = (name: string, value: unknown): string => write(name, JSON.stringify(value, null, 2));
  // In JSON.stringify(..., 2) output, task i's name is on line 4 + 4 * i.
  let f = json('dup.json', { tasks: [{ name: 'A', instruction: 'x' }, { name: 'B', instruction: 'y' }, { name: 'A', instruction: 'z' }] });
  await rejectsWith(readInstructionSet(f), f, 12, /^task 3: duplicate task name "A" \(first on line 4\)$/);
  f = json('emptyins.json', { tasks: [{ name: 'A', instruction: 'x' }, { name: 'B', instruction: '  ' }] });
  await rejectsWith(readInstructionSet(f), f, 9, /^task 2: "instruction" is empty$/);
  f = json('missing.json', { tasks: [{ name: 'A' }] });
  await rejectsWith(readInstructionSet(f), f, 3, /^task 1: missing field "instruction"$/);
  f = json('unknown.json', { tasks: [{ name: 'A', instruction: 'x', prompt: 'y' }] });
  await rejectsWith(readInstructionSet(f), f, 6, /^task 1: unknown field "prompt" \(allowed: name, instruction, kind\)$/);
  f = json('toplevel.json', { tasks: [{ name: 'A', instruction: 'x' }], model: 'm' });
  await rejectsWith(readInstructionSet(f), f, 8, /^unknown field "model"/);
  f = json('type.json', { tasks: [{ name: 'A', instruction: 'x' }, { name: 7, instruction: 'y' }] });
  await rejectsWith(readInstructionSet(f), f, 8, /^task 2: "name" must be a string$/);
  f = json('base.json', { tasks: [{ name: 'base', instruction: 'x' }] });
  await rejectsWith(readInstructionSet(f), f, 4, /^task 1: "base" is reserved: Base \(no instruction\) is always added first$/);
  f = json('notlist.json', { tasks: { name: 'A', instruction: 'x' } });
  await rejectsWith(readInstructionSet(f), f, 2, /^"tasks" must be a list/);
  f = json('emptylist.json', { tasks: [] });
  await rejectsWith(readInstructionSet(f), f, 2, /^"tasks" is empty/);
  f = json('notask.json', { task: [] });
  await rejectsWith(readInstructionSet(f), f, 2, /^unknown field "task".*\(and 1 more problem\)$/);
  f = json('array.json', [{ name: 'A', instruction: 'x' }]);
  await rejectsWith(readInstructionSet(f), f, 1, /^expected a mapping with a "tasks" list$/);
  f = write('syntax.json', '{\n  "tasks": [\n    { "name": "A", "instruction": "x" },\n  ]\n}\n');
  await rejectsWith(readInstructionSet(f), f, 4, /^invalid JSON/);
  f = write('empty.yaml', '\n');
  await rejectsWith(readInstructionSet(f), f, 1, /^the file is empty/);
  f = write('syntax.yaml', 'tasks:\n  - name: A\n    instruction: x: y\n  - name: B\n    instruction: z\n');
  await rejectsWith(readInstructionSet(f), f, 3, /^invalid YAML: Nested mappings are not allowed in compact mappings$/);
  f = write('dupkey.yaml', 'tasks:\n  - name: A\n    name: B\n    instruction: x\n');
  await rejectsWith(readInstructionSet(f), f, 3, /^invalid YAML: Map keys must be unique/);
  f = write('item.yaml', 'tasks:\n  - name: A\n    instruction: x\n  - just a string\n');
  await rejectsWith(readInstructionSet(f), f, 4, /^task 2: expected a mapping with "name" and "instruction"$/);
  f = write('nullins.yaml', 'tasks:\n  - name: A\n    instruction:\n');
  await rejectsWith(readInstructionSet(f), f, 3, /^task 1: "instruction" must be a string$/);
  f = write('set.txt', 'tasks: []');
  await rejectsWith(readInstructionSet(f), f, undefined, /^unsupported instruction set: use a \.json, \.yaml or \.yml file, or a preset \(paper-en, paper-ja\)$/);
  f = path.join(dir, 'none.yaml');
  await rejectsWith(readInstructionSet(f), f, undefined, /^file not found$/);
});

function slice(content: string, range: TextRange): string {
  const lines = content.split('\n');
  if (range.start.line === range.end.line) return lines[range.start.line].slice(range.start.character, range.end.character);
  return [
    lines[range.start.line].slice(range.start.character),
    ...lines.slice(range.start.line + 1, range.end.line),
    lines[range.end.line].slice(0, range.end.character),
  ].join('\n');
}

test('parseInstructionDocument: instruction ranges for CodeLenses and live editing', () => {
  const jsonContent = fs.readFileSync(example('paper-en.instructions.json'), 'utf8');
  const json = parseInstructionDocument(jsonContent, 'json');
  assert.deepEqual(json.problems, []);
  assert.equal(json.tasks.length, 5);
  json.tasks.forEach((task, i) => {
    assert.equal(task.index, i);
    assert.equal(task.instructionRange.start.line, 3 + i);
    assert.equal(slice(jsonContent, task.instructionRange), JSON.stringify(PRESETS['paper-en'][i].instruction));
    assert.equal(slice(jsonContent, task.nameRange), JSON.stringify(PRESETS['paper-en'][i].name));
  });
  const yamlContent = fs.readFileSync(example('paper-ja.instructions.yaml'), 'utf8');
  const yaml = parseInstructionDocument(yamlContent, 'yaml');
  assert.deepEqual(yaml.problems, []);
  yaml.tasks.forEach((task, i) => {
    assert.equal(task.instructionRange.start.line, 4 + 2 * i);
    assert.equal(slice(yamlContent, task.instructionRange), PRESETS['paper-ja'][i].instruction);
  });
  // While editing: valid tasks are still located, problems carry ranges.
  const editing = 'tasks:\n  - name: A\n    instruction: first\n  - name: B\n    instruction: ""\n  - name: C\n    instruction: third\n';
  const partial = parseInstructionDocument(editing, 'yaml');
  assert.deepEqual(partial.tasks.map((t) => t.name), ['A', 'C']);
  assert.equal(partial.problems.length, 1);
  assert.equal(partial.problems[0].line, 5);
  assert.equal(slice(editing, partial.problems[0].range), '""');
});

// ---------- the JSON Schema ----------

type Schema = Record<string, unknown>;
const KNOWN_KEYWORDS = new Set([
  '$schema', '$id', 'title', 'description', 'type', 'required', 'additionalProperties', 'properties', 'items', 'minItems', 'pattern', 'not',
  'enum', 'dependencies',
]);

/** A tiny draft-07 validator for exactly the keywords our schema uses; any other keyword fails the test. */
function schemaErrors(schema: Schema, value: unknown, at = '$'): string[] {
  for (const keyword of Object.keys(schema)) assert.ok(KNOWN_KEYWORDS.has(keyword), `unsupported keyword ${keyword}`);
  const errors: string[] = [];
  const type = schema.type as string | undefined;
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  if (type && type !== actual) return [`${at}: expected ${type}`];
  if (schema.pattern && typeof value === 'string' && !new RegExp(schema.pattern as string, 'u').test(value)) errors.push(`${at}: pattern`);
  if (schema.not && schemaErrors(schema.not as Schema, value, at).length === 0) errors.push(`${at}: not`);
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) errors.push(`${at}: enum`);
  if (actual === 'array') {
    const items = value as unknown[];
    if (typeof schema.minItems === 'number' && items.length < schema.minItems) errors.push(`${at}: minItems`);
    if (schema.items) items.forEach((item, i) => errors.push(...schemaErrors(schema.items as Schema, item, `${at}[${i}]`)));
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in object)) errors.push(`${at}: required ${key}`);
    for (const [key, needs] of Object.entries((schema.dependencies ?? {}) as Record<string, string[]>)) {
      if (key in object) for (const need of needs) if (!(need in object)) errors.push(`${at}: ${key} needs ${need}`);
    }
    for (const [key, child] of Object.entries(object)) {
      if (properties[key]) errors.push(...schemaErrors(properties[key], child, `${at}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${at}: additional ${key}`);
    }
  }
  return errors;
}

test('schema: valid for the example files, invalid where the reader also rejects', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'schemas', 'instructions.schema.json'), 'utf8')) as Schema;
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.deepEqual(schemaErrors(schema, JSON.parse(fs.readFileSync(example('paper-en.instructions.json'), 'utf8'))), []);
  assert.deepEqual(schemaErrors(schema, parseYaml(fs.readFileSync(example('paper-ja.instructions.yaml'), 'utf8'))), []);
  assert.deepEqual(schemaErrors(schema, parseYaml(fs.readFileSync(example('eval/tasks.instructions.yaml'), 'utf8'))), []);
  const invalid: unknown[] = [
    { tasks: [] },
    { tasks: [{ name: 'Base', instruction: 'x' }] },
    { tasks: [{ name: ' BASE ', instruction: 'x' }] },
    { tasks: [{ name: 'A' }] },
    { tasks: [{ name: '  ', instruction: 'x' }] },
    { tasks: [{ name: 'A', instruction: '' }] },
    { tasks: [{ name: 'A', instruction: 'x', extra: 1 }] },
    { tasks: [{ name: 3, instruction: 'x' }] },
    { tasks: [{ name: 'A', instruction: 'x' }], other: true },
    { tasks: [{ name: 'corpus', instruction: 'x' }] },
    { tasks: [{ name: 'A', instruction: 'x', kind: 'ranking' }] },
    { tasks: [{ name: 'A', instruction: 'x' }], evaluation: { corpus: 'c.jsonl' } },
    { tasks: [{ name: 'A', instruction: 'x' }], evaluation: { qrels: 'q.tsv' } },
    { tasks: [{ name: 'A', instruction: 'x' }], evaluation: { pairs: '' } },
    { tasks: [{ name: 'A', instruction: 'x' }], evaluation: { labels: 'l.csv' } },
    { tasks: [{ name: 'A', instruction: 'x' }], evaluation: 'data' },
    { task: [{ name: 'A', instruction: 'x' }] },
    [{ name: 'A', instruction: 'x' }],
  ];
  for (const document of invalid) {
    assert.notDeepEqual(schemaErrors(schema, document), [], `schema should reject ${JSON.stringify(document)}`);
    assert.notDeepEqual(parseInstructionDocument(JSON.stringify(document), 'json').problems, [], `reader should reject ${JSON.stringify(document)}`);
  }
});
