/**
 * `--save-frame`, `--frame <dir>` and `--anchor <results.json>` of `analyze` and `run` (METHOD.md "Live preview
 * (frozen frame) and anchoring"): save the frame of the analysis beside results.json, show the bundle in an earlier
 * run's frame instead of refitting (as the extension's live preview does), or anchor the exact map to an earlier map.
 */
import { checkFrameDir, readFrame, writeFrame } from '../engine/io/frameFiles';
import { readResults } from '../engine/io/outputs';
import { anchorResult } from '../engine/method/anchor';
import { anchorFrame, type MapFrame } from '../engine/method/frame';
import { runAnalysis, runAnalysisWithFrame, runPreview, type StageSeconds } from '../engine/method/runAnalysis';
import type { AnalysisOptions, AnalysisResult, EmbeddingBundle, MapPoint } from '../engine/types';
import { UsageError } from './args';

export const MAP_OPTIONS = {
  'save-frame': { type: 'boolean' },
  frame: { type: 'string' },
  anchor: { type: 'string' },
} as const;

export const MAP_USAGE = `  --save-frame               also write the frame of this analysis into <out>/frame/ (for --frame and live previews)
  --frame <dir>              no refit: show the tasks in the frame of an earlier run (<dir> holds frame/, written with
                             --save-frame): unchanged tasks keep their points, changed and new tasks are projected
                             into it and placed by out-of-sample MDS (results.json: mapMode "preview", mapFrame)
  --anchor <results.json>    exact analysis, its map rotated/reflected and shifted onto the map of an earlier
                             results.json on the points both have (results.json: mapMode "anchored", mapAnchor)
`;

export interface MapFlags {
  saveFrame: boolean;
  frame?: string;
  anchor?: string;
}

/** The flags, checked: --frame replaces the analysis, so it takes no analysis option and no --save-frame/--anchor. */
export function mapFlagsFrom(values: { 'save-frame'?: boolean; frame?: string; anchor?: string }, options: AnalysisOptions): MapFlags {
  const flags: MapFlags = { saveFrame: values['save-frame'] === true };
  if (values.frame !== undefined) {
    if (values.frame === '') throw new UsageError('--frame needs the folder of an earlier run');
    if (flags.saveFrame || values.anchor !== undefined) throw new UsageError('--frame shows a preview in an earlier frame: it cannot be combined with --save-frame or --anchor');
    const given = Object.keys(options).map((name) => `--${name}`);
    if (given.length > 0) throw new UsageError(`--frame keeps the frame's analysis options: drop ${given.join(', ')}`);
    flags.frame = values.frame;
  }
  if (values.anchor !== undefined) {
    if (values.anchor === '') throw new UsageError('--anchor needs a results.json');
    flags.anchor = values.anchor;
  }
  return flags;
}

export interface PreparedMapFlags {
  flags: MapFlags;
  frame?: { frame: MapFrame; file: string };
  previous?: MapPoint[];
}

/** Reads the earlier frame or map and checks that a frame can be written: before the work, not after it. */
export async function prepareMapFlags(flags: MapFlags, outDir: string, force: boolean): Promise<PreparedMapFlags> {
  if (flags.saveFrame) await checkFrameDir(outDir, force);
  const prepared: PreparedMapFlags = { flags };
  if (flags.frame !== undefined) prepared.frame = await readFrame(flags.frame);
  if (flags.anchor !== undefined) prepared.previous = (await readResults(flags.anchor)).points;
  return prepared;
}

/** The analysis as the flags ask: a preview in the frame, or the exact analysis (anchored, with its frame). */
export async function analyseWithMapFlags(
  bundle: EmbeddingBundle,
  options: AnalysisOptions,
  prepared: PreparedMapFlags,
  signal: AbortSignal,
  onStageSeconds?: (seconds: StageSeconds) => void,
): Promise<{ result: AnalysisResult; frame?: MapFrame }> {
  if (prepared.frame) return { result: await runPreview(prepared.frame.frame, bundle, prepared.frame.file, signal, { neighbourOverlap: options.neighbourOverlap }) };
  if (!prepared.flags.saveFrame) {
    const result = await runAnalysis(bundle, options, signal, onStageSeconds);
    return { result: prepared.previous ? anchorResult(result, prepared.previous).result : result };
  }
  const exact = await runAnalysisWithFrame(bundle, options, signal, onStageSeconds);
  if (!prepared.previous) return exact;
  const anchored = anchorResult(exact.result, prepared.previous);
  return { result: anchored.result, frame: anchorFrame(exact.frame, anchored.transform) };
}

/** Writes the frame when one was made; returns the lines to print. */
export async function writeFrameOutput(outDir: string, frame: MapFrame | undefined, force: boolean): Promise<string[]> {
  if (!frame) return [];
  return [`wrote ${await writeFrame(outDir, frame, { force })}`];
}
