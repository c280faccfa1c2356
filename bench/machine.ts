/** The machine a benchmark ran on, and the numpy child process's environment. */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../src/engine/io/paths';

const run = promisify(execFile);

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  date: string;
  loadAverageStart: number[];
}

export function machineInfo(): MachineInfo {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) cpu = line.split(':')[1].trim();
  } catch {
    // not Linux: os.cpus() model
  }
  return {
    cpu,
    cores: os.cpus().length,
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    loadAverageStart: os.loadavg(),
  };
}

/** OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE set on this machine make current OpenBLAS pick a slow kernel: drop them. */
export const NUMPY_ENV_DROPPED = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'];

export function numpyEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of NUMPY_ENV_DROPPED) delete env[name];
  return env;
}

export const NUMPY_SCRIPT = path.join(packageRoot(), 'bench', 'numpy_reference.py');

/** null when python3 with numpy and scipy is available, else the reason. */
export async function numpyMissing(): Promise<string | null> {
  try {
    await run('python3', ['-c', 'import numpy, scipy'], { env: numpyEnv() });
    return null;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    return e.code === 'ENOENT' ? 'python3 not found' : `python3 cannot import numpy and scipy: ${(e.stderr ?? e.message).trim().split('\n').pop()}`;
  }
}

export async function runNumpy(args: string[], extraEnv: Record<string, string> = {}): Promise<unknown> {
  const { stdout } = await run('python3', [NUMPY_SCRIPT, ...args], { env: numpyEnv(extraEnv), maxBuffer: 256 * 2 ** 20 });
  return JSON.parse(stdout);
}

/** Interpreters that may have scikit-learn beside numpy and scipy: Debian's first (python3 may be another install). */
const SKLEARN_PYTHONS = ['/usr/bin/python3', 'python3'];

/** The first interpreter that imports numpy, scipy and scikit-learn, or the reason there is none. */
export async function sklearnPython(): Promise<{ python: string } | { missing: string }> {
  const problems: string[] = [];
  for (const python of SKLEARN_PYTHONS) {
    try {
      await run(python, ['-c', 'import numpy, scipy, sklearn'], { env: numpyEnv() });
      return { python };
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      problems.push(`${python}: ${e.code === 'ENOENT' ? 'not found' : (e.stderr ?? e.message).trim().split('\n').pop()}`);
    }
  }
  return { missing: `no interpreter with numpy, scipy and scikit-learn (${problems.join('; ')})` };
}
