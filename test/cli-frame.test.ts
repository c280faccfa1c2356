/**
 * `--save-frame`, `--frame` and `--anchor` of `analyze` and `run`, through the real CLI: the frame's files, a preview
 * in an earlier frame (tasks not edited keep their points, edited and new ones are projected), an anchored exact
 * analysis, and bad or mismatched frames (exit 2, the file named, no stack trace).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { packageRoot } from '../src/engine/io/paths';
import { mapExtent } from '../src/engine/method/anchor';
import type { AnalysisResult, MapPoint } from '../src/engine/types';
import { assertNoStack, cli, tempDir } from './helpers/cli';

const root = packageRoot();
const goodBundle = path.join(root, 'test', 'fixtures', 'bundles', 'good-ordered');
const glove = path.resolve(root, '../shared/models/glove-6B-100d-sif-50k');
const FRAME_FILES = ['frame.json', 'model-0-basis.npy', 'model-0-mean.npy', 'model-1-basis.npy', 'model-1-mean.npy', 'model-1-rotation.npy', 'points.npy'];

const readResults = (dir: string): AnalysisResult => JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as AnalysisResult;
const key = (p: { model: string; task: string }): string => JSON.stringify([p.model, p.task]);
const extentOf = (points: readonly MapPoint[]): number => mapExtent(points.flatMap((p) => [p.x, p.y]), points.length);

/** Distance each point of `after` moved from the same (model, task) of `before`, by key. */
function movements(before: AnalysisResult, after: AnalysisResult): Map<string, number> {
  const old = new Map(before.points.map((p) => [key(p), p]));
  return new Map(after.points.filter((p) => old.has(key(p))).map((p) => [key(p), Math.hypot(p.x - old.get(key(p))!.x, p.y - old.get(key(p))!.y)]));
}

describe('analyze --save-frame / --frame / --anchor', () => {
  const work = tempDir();
  const first = path.join(work, 'first');
  const edited = path.join(work, 'edited-bundle');

  test('--save-frame writes frame/ beside results.json and leaves results.json as without it', async () => {
    const run = await cli('analyze', goodBundle, '--out', first, '--save-frame');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`wrote ${path.join(first, 'frame').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.deepEqual(fs.readdirSync(path.join(first, 'frame')).sort(), FRAME_FILES);
    const plain = path.join(work, 'plain');
    assert.equal((await cli('analyze', goodBundle, '--out', plain)).status, 0);
    assert.equal(fs.readFileSync(path.join(first, 'results.json'), 'utf8'), fs.readFileSync(path.join(plain, 'results.json'), 'utf8'));
    const frame = JSON.parse(fs.readFileSync(path.join(first, 'frame', 'frame.json'), 'utf8'));
    assert.equal(frame.format, 'instruction-lens-frame');
    assert.equal(frame.version, 1);
    assert.deepEqual(frame.coords, readResults(first).points.map((p) => [p.x, p.y]));
  });

  test('--save-frame refuses to replace an earlier frame without --force, replaces it with --force', async () => {
    const out = path.join(work, 'refuse');
    assert.equal((await cli('analyze', goodBundle, '--out', out, '--save-frame')).status, 0);
    const replaced = await cli('analyze', goodBundle, '--out', out, '--save-frame', '--force');
    assert.equal(replaced.status, 0, replaced.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), ['displacement.csv', 'frame', 'procrustes.csv', 'report.html', 'results.json']);
    for (const name of ['displacement.csv', 'procrustes.csv', 'report.html', 'results.json']) fs.rmSync(path.join(out, name));
    const refused = await cli('analyze', goodBundle, '--out', out, '--save-frame');
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /frame: a frame of an earlier run is here; not overwriting it \(use --force/);
    assert.deepEqual(fs.readdirSync(out), ['frame'], 'nothing written');
  });

  test('--frame with the same bundle: every point is the frame’s own', async () => {
    const out = path.join(work, 'same');
    const run = await cli('analyze', goodBundle, '--out', out, '--frame', first);
    assert.equal(run.status, 0, run.stderr);
    const result = readResults(out);
    assert.equal(result.mapMode, 'preview');
    assert.deepEqual(result.mapFrame?.projected, []);
    assert.deepEqual(result.points, readResults(first).points);
  });

  test('--frame with an edited task: tasks not edited keep their coordinates, the edited one is projected and moves', async () => {
    // The edit: model m-a's STS embeddings become its Clustering embeddings, so the projected point must land on
    // m-a's Clustering point (out-of-sample of a point of the map reproduces it).
    fs.cpSync(goodBundle, edited, { recursive: true });
    fs.copyFileSync(path.join(goodBundle, 'm-a', 'Clustering.npy'), path.join(edited, 'm-a', 'STS.npy'));
    const out = path.join(work, 'preview');
    const run = await cli('analyze', edited, '--out', out, '--frame', first);
    assert.equal(run.status, 0, run.stderr);
    const before = readResults(first);
    const preview = readResults(out);
    assert.equal(preview.mapMode, 'preview');
    assert.deepEqual(preview.mapFrame?.projected, [{ model: 'm-a', task: 'STS' }]);
    assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /Map shown<\/th><td>preview in the frame [0-9a-f]{16} of an earlier analysis; projected by out-of-sample MDS: m-a \/ STS/);
    const extent = extentOf(before.points);
    const moved = movements(before, preview);
    const editedKey = key({ model: 'm-a', task: 'STS' });
    for (const [which, distance] of moved) if (which !== editedKey) assert.ok(distance <= 1e-9 * extent, `${which} moved ${distance}`);
    assert.ok(moved.get(editedKey)! > 0.05 * extent, 'the edited point moved');
    const target = before.points.find((p) => p.model === 'm-a' && p.task === 'Clustering')!;
    const projected = preview.points.find((p) => key(p) === editedKey)!;
    assert.ok(Math.hypot(projected.x - target.x, projected.y - target.y) <= 1e-9 * extent, 'lands on the point with the same embeddings');
    // Displacement numbers are exact (own space): those of the full analysis of the edited bundle.
    const exactOut = path.join(work, 'edited-exact');
    assert.equal((await cli('analyze', edited, '--out', exactOut)).status, 0);
    const rows = (r: AnalysisResult) => r.displacement.map((row) => [row.model, row.task, row.meanCosineDistance, row.neighbourOverlap]);
    assert.deepEqual(rows(preview), rows(readResults(exactOut)));
  });

  test('--anchor: the exact analysis anchored to the earlier map; anchored to itself it is unchanged', async () => {
    const self = path.join(work, 'self');
    assert.equal((await cli('analyze', goodBundle, '--out', self, '--anchor', path.join(first, 'results.json'))).status, 0);
    const anchoredSelf = readResults(self);
    assert.equal(anchoredSelf.mapMode, 'anchored');
    assert.equal(anchoredSelf.mapAnchor?.matchedPoints, 8);
    assert.match(fs.readFileSync(path.join(self, 'report.html'), 'utf8'), /exact analysis, anchored to an earlier map on 8 points/);
    assert.doesNotMatch(fs.readFileSync(path.join(first, 'report.html'), 'utf8'), /Map shown/);
    const extent = extentOf(readResults(first).points);
    for (const distance of movements(readResults(first), anchoredSelf).values()) assert.ok(distance <= 1e-12 * extent);

    // A rotated, reflected and shifted copy of the first map: anchoring brings the map onto it.
    const theta = 0.7;
    const copy = readResults(first);
    copy.points = copy.points.map((p) => ({ ...p, x: Math.cos(theta) * p.x + Math.sin(theta) * p.y + 3, y: Math.sin(theta) * p.x - Math.cos(theta) * p.y - 1 }));
    const copyFile = path.join(work, 'copy-results.json');
    fs.writeFileSync(copyFile, JSON.stringify(copy));
    const onto = path.join(work, 'onto');
    assert.equal((await cli('analyze', goodBundle, '--out', onto, '--anchor', copyFile, '--save-frame')).status, 0);
    const anchored = readResults(onto);
    assert.equal(anchored.mapAnchor?.reflected, true);
    for (const distance of movements(copy, anchored).values()) assert.ok(distance <= 1e-12 * extent, `moved ${distance}`);
    // Its frame holds the anchored map: a preview in it keeps the anchored points.
    const frame = JSON.parse(fs.readFileSync(path.join(onto, 'frame', 'frame.json'), 'utf8'));
    assert.deepEqual(frame.coords, anchored.points.map((p) => [p.x, p.y]));
    const preview = path.join(work, 'preview-anchored');
    assert.equal((await cli('analyze', edited, '--out', preview, '--frame', onto)).status, 0);
    const shown = readResults(preview);
    for (const [which, distance] of movements(anchored, shown)) if (which !== key({ model: 'm-a', task: 'STS' })) assert.equal(distance, 0);
  });

  test('bad and mismatched frames: exit 2 and a message naming the file', async () => {
    const frameDir = path.join(work, 'bad-frames');
    const copyFrame = (name: string): string => {
      const dir = path.join(frameDir, name);
      fs.cpSync(path.join(first, 'frame'), path.join(dir, 'frame'), { recursive: true });
      return dir;
    };
    const truncated = copyFrame('truncated');
    const points = path.join(truncated, 'frame', 'points.npy');
    fs.writeFileSync(points, fs.readFileSync(points).subarray(0, 200));
    const tampered = copyFrame('tampered');
    const tamperedJson = path.join(tampered, 'frame', 'frame.json');
    const json = JSON.parse(fs.readFileSync(tamperedJson, 'utf8'));
    json.coords[0][0] += 1;
    fs.writeFileSync(tamperedJson, JSON.stringify(json));
    const version = copyFrame('version');
    const versionJson = path.join(version, 'frame', 'frame.json');
    fs.writeFileSync(versionJson, JSON.stringify({ ...JSON.parse(fs.readFileSync(versionJson, 'utf8')), version: 2 }));
    const notJson = copyFrame('not-json');
    fs.writeFileSync(path.join(notJson, 'frame', 'frame.json'), '{"format": ');
    const otherModels = path.join(work, 'other-models');
    const renamed = path.join(work, 'renamed-bundle');
    fs.cpSync(goodBundle, renamed, { recursive: true });
    fs.renameSync(path.join(renamed, 'm-a'), path.join(renamed, 'm-c'));
    fs.writeFileSync(path.join(renamed, 'models.txt'), 'm-B\nm-c\n');
    fs.rmSync(path.join(renamed, 'models.txt'));
    const cases: [string, string[], RegExp][] = [
      ['no frame', ['--frame', path.join(work, 'plain-no-frame')], /frame\.json: no frame here/],
      ['truncated npy', ['--frame', truncated], /points\.npy: truncated \.npy file/],
      ['tampered', ['--frame', tampered], /frame\.json: frameId does not match/],
      ['version', ['--frame', version], /frame\.json: frame version 2 is not supported/],
      ['not json', ['--frame', notJson], /frame\.json: not a frame file/],
    ];
    fs.mkdirSync(path.join(work, 'plain-no-frame'), { recursive: true });
    for (const [what, args, message] of cases) {
      const run = await cli('analyze', goodBundle, '--out', path.join(frameDir, `out-${what.replace(/ /g, '-')}`), ...args);
      assert.equal(run.status, 2, `${what}: ${run.stderr}`);
      assert.match(run.stderr, message, what);
      assertNoStack(run.stderr);
    }
    const mismatch = await cli('analyze', renamed, '--out', otherModels, '--frame', first);
    assert.equal(mismatch.status, 2, mismatch.stderr);
    assert.match(mismatch.stderr, /frame\.json: the frame is for models 'm-B', 'm-a', the embeddings are of 'm-B', 'm-c'/);
    assertNoStack(mismatch.stderr);
  });

  test('usage errors: --frame takes no analysis options and no --save-frame or --anchor', async () => {
    for (const args of [['--frame', first, '--k', '3'], ['--frame', first, '--save-frame'], ['--frame', first, '--anchor', path.join(first, 'results.json')]]) {
      const run = await cli('analyze', goodBundle, '--out', path.join(work, 'usage'), ...args);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /^instruction-lens analyze: --frame/);
      assert.match(run.stderr, /\nRun `instruction-lens analyze --help` for the options\.\n$/);
    }
    const badAnchor = await cli('analyze', goodBundle, '--out', path.join(work, 'usage'), '--anchor', path.join(first, 'report.html'));
    assert.equal(badAnchor.status, 2);
    assert.match(badAnchor.stderr, /report\.html: cannot read results/);
  });
});

describe('run --save-frame / --frame / --anchor with a real model (GloVe), one instruction rewritten', () => {
  const work = tempDir();
  const queries = path.join(work, 'queries.txt');
  const instructions = path.join(work, 'tasks.instructions.json');
  const editedInstructions = path.join(work, 'edited.instructions.json');
  const cache = path.join(work, 'cache');
  const tasks = (sts: string) => ({
    tasks: [
      { name: 'Retrieval', instruction: 'Given a query, retrieve passages that can answer the query.' },
      { name: 'STS', instruction: sts },
      { name: 'Classification', instruction: 'Classify the given query into the appropriate category.' },
    ],
  });

  test('tasks not edited keep their points in the preview; the anchored refit is the exact map moved onto the first', async () => {
    const lines = fs.readFileSync(path.join(root, 'examples', 'queries-en.txt'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    fs.writeFileSync(queries, lines.slice(0, 24).join('\n') + '\n');
    fs.writeFileSync(instructions, JSON.stringify(tasks('Given a query, find the passage most similar in meaning to the query.')));
    fs.writeFileSync(editedInstructions, JSON.stringify(tasks('Rewrite the query as a short sentence about weather and sports news.')));
    const common = ['--queries', queries, '--models', `${glove},use-lite`, '--cache', cache, '--offline'];
    const first = path.join(work, 'first');
    const a = await cli('run', ...common, '--instructions', instructions, '--out', first, '--save-frame');
    assert.equal(a.status, 0, a.stderr);
    const preview = path.join(work, 'preview');
    const b = await cli('run', ...common, '--instructions', editedInstructions, '--out', preview, '--frame', first);
    assert.equal(b.status, 0, b.stderr);
    const refit = path.join(work, 'refit');
    const c = await cli('run', ...common, '--instructions', editedInstructions, '--out', refit, '--anchor', path.join(first, 'results.json'));
    assert.equal(c.status, 0, c.stderr);
    const plain = path.join(work, 'plain');
    assert.equal((await cli('run', ...common, '--instructions', editedInstructions, '--out', plain)).status, 0);
    const before = readResults(first);
    const shown = readResults(preview);
    const anchored = readResults(refit);
    const extent = extentOf(before.points);
    const edited = new Set(before.models.map((model) => key({ model, task: 'STS' })));
    assert.deepEqual(shown.mapFrame?.projected, before.models.map((model) => ({ model, task: 'STS' })));
    const previewMoves = movements(before, shown);
    for (const [which, distance] of previewMoves) if (!edited.has(which)) assert.ok(distance <= 1e-9 * extent, `${which}: ${distance}`);
    for (const which of edited) assert.ok(previewMoves.get(which)! > 0.005 * extent, `${which} moved`);
    assert.equal(anchored.mapMode, 'anchored');
    assert.equal(anchored.mapAnchor?.matchedPoints, before.points.length);
    // Anchoring is the least-squares rigid motion: no worse than the unanchored map, which is one candidate motion.
    const rms = (moves: Map<string, number>) => Math.sqrt([...moves.values()].reduce((s, d) => s + d * d, 0) / moves.size);
    const anchoredRms = rms(movements(before, anchored));
    assert.ok(Math.abs(anchoredRms - anchored.mapAnchor!.rmsResidual) <= 1e-12 * extent);
    assert.ok(anchoredRms <= rms(movements(before, readResults(plain))) + 1e-12 * extent);
    const unedited = (moves: Map<string, number>) => [...moves].filter(([which]) => !edited.has(which)).map(([, d]) => d / extent).sort((x, y) => x - y);
    const refitMoves = unedited(movements(before, anchored));
    const plainMoves = unedited(movements(before, readResults(plain)));
    const median = (xs: number[]) => xs[Math.floor(xs.length / 2)];
    console.log(
      `rewritten STS instruction, ${before.models.length} models x ${before.tasks.length} tasks x ${before.n} queries: the preview moved the edited ` +
        `points by ${[...edited].map((w) => (previewMoves.get(w)! / extent).toFixed(4)).join(', ')} of the extent, the others by 0; ` +
        `exact refit, unedited points: anchored median ${median(refitMoves).toFixed(4)} max ${refitMoves.at(-1)!.toFixed(4)}, ` +
        `not anchored median ${median(plainMoves).toFixed(4)} max ${plainMoves.at(-1)!.toFixed(4)} of the extent`,
    );
  });
});
