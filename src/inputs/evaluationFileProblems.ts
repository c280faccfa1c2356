/**
 * Problems with the files an instruction set's `evaluation:` block names (missing, a folder or special file, too
 * large, not readable, an extension no reader takes), placed on the path as written: the diagnostics show them as
 * the user types, before any analysis reads the files. Reading the files (resolveEvaluation) reports the same
 * problems, and those of their content, as UserErrors.
 */
import { MAX_TEXT_FILE_BYTES, regularFileProblem } from '../engine/io/regularFile';
import { evaluationExtensionProblem } from './evaluationFiles';
import { EVALUATION_FIELDS, evaluationSourcesOf, type InstructionDocument, type InstructionProblem } from './instructions';

/** The problems of the files named by `document`'s evaluation block, with paths relative to `instructionFile`'s folder. */
export function evaluationFileProblems(instructionFile: string, document: InstructionDocument): InstructionProblem[] {
  const sources = evaluationSourcesOf(instructionFile, document.evaluation);
  const problems: InstructionProblem[] = [];
  for (const field of EVALUATION_FIELDS) {
    const file = sources[field];
    const range = document.evaluationRanges?.[field];
    if (file === undefined || range === undefined) continue;
    const problem = evaluationExtensionProblem(file, field) ?? regularFileProblem(file, MAX_TEXT_FILE_BYTES);
    if (problem !== undefined) {
      problems.push({ message: `evaluation: ${field} file "${document.evaluation?.[field]}": ${problem}`, line: range.start.line + 1, range });
    }
  }
  return problems;
}
