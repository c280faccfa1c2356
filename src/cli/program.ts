/**
 * The `instruction-lens` program: subcommands, help, exit codes, error reporting. runCli() runs one command line
 * in-process (src/cli/main.ts runs it for the real process; the fuzz tests call it directly, many cases per process).
 * Exit codes: 0 success, 1 unexpected error, 2 bad input or arguments, 130 cancelled (Ctrl-C).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancelledError, UserError } from '../engine/errors';
import { packageRoot } from '../engine/io/paths';
import { analyzeCommand } from './analyzeCommand';
import { embedCommand, runCommand } from './embedCommands';
import { type CliIo, closestName, type Command, quoted, UsageError } from './args';

const COMMANDS: Command[] = [
  runCommand,
  embedCommand,
  analyzeCommand,
];

const PROGRAM = 'instruction-lens';

function topUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 'help'.length) + 2;
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
  return `Usage: ${PROGRAM} <command> [options]

Commands:
${lines.join('\n')}
  ${'help'.padEnd(width)}show help for a command: ${PROGRAM} help <command>

Options:
  --help, -h    show this help (or a command's help: ${PROGRAM} <command> --help)
  --version     print the version
`;
}

function version(): string {
  return JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version as string;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.stderr(topUsage());
    return 2;
  }
  if (name === '--help' || name === '-h') {
    io.stdout(topUsage());
    return 0;
  }
  if (name === '--version') {
    io.stdout(`${version()}\n`);
    return 0;
  }
  if (name === 'help') {
    if (args.length === 0) {
      io.stdout(topUsage());
      return 0;
    }
    const command = COMMANDS.find((c) => c.name === args[0]);
    if (!command) return unknownCommand(args[0], io);
    io.stdout(command.usage);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return unknownCommand(name, io);
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(command.usage);
    return 0;
  }
  try {
    await command.run(args, io);
    return 0;
  } catch (error) {
    return reportError(error, command, io);
  }
}

function unknownCommand(name: string, io: CliIo): number {
  const guess = closestName(name, COMMANDS.map((c) => c.name));
  if (name.startsWith('-')) io.stderr(`${PROGRAM}: unknown option ${quoted(name)} here: a command comes first (${PROGRAM} <command> [options])\n`);
  else io.stderr(`${PROGRAM}: unknown command ${quoted(name)}${guess === undefined ? '' : ` (did you mean ${guess}?)`}\n`);
  io.stderr(`Run \`${PROGRAM} --help\` for the commands.\n`);
  return 2;
}

function reportError(error: unknown, command: Command, io: CliIo): number {
  // Errors thrown in a worker thread arrive as plain Errors that keep their name.
  const name = error instanceof Error ? error.name : '';
  if (error instanceof CancelledError || name === 'CancelledError') {
    io.stderr(`${PROGRAM}: cancelled\n`);
    return 130;
  }
  if (error instanceof UsageError) {
    // One line naming the problem, and where the options are: the whole help would bury the message.
    io.stderr(`${PROGRAM} ${command.name}: ${error.message}\nRun \`${PROGRAM} ${command.name} --help\` for the options.\n`);
    return 2;
  }
  if (error instanceof UserError || name === 'UserError') {
    io.stderr(`${PROGRAM}: ${(error as Error).message}\n`);
    return 2;
  }
  const debug = process.env.INSTRUCTION_LENS_DEBUG === '1';
  const detail = error instanceof Error ? (debug && error.stack ? error.stack : error.message) : String(error);
  io.stderr(`${PROGRAM}: unexpected error: ${detail}\n${debug ? '' : 'Set INSTRUCTION_LENS_DEBUG=1 for details.\n'}`);
  return 1;
}
