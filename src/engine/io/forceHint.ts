/**
 * The hint of every refusal to replace an earlier run's files (CLI): what --force would replace, and that it never
 * replaces the run's inputs (checked by refuseReplacingInputs, inputGuard.ts, before anything is replaced).
 */
export function forceHint(replaced: string): string {
  return `use --force to replace ${replaced}; --force never replaces the run's input files`;
}
