/**
 * The `instruction-lens` command line (bundled to dist/cli.js, started by bin/instruction-lens.js): runs the program
 * (src/cli/program.ts) for this process. This module runs the CLI when loaded: do not import it.
 */
import type { CliIo } from './args';
import { runCli } from './program';

function start(): void {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    signal: controller.signal,
  };
  runCli(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}

start();
