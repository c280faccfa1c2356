/**
 * A real VS Code (code-server, installed by scripts/install-code-server.sh) for the end-to-end test: install a
 * .vsix into fresh folders, start it in its own process group, stop the whole group. See ../shared/docs/E2E.md.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const CODE_SERVER_DIR = process.env.IL_CODE_SERVER_DIR ?? '/opt/instruction-lens-cache/code-server';
export const CODE_SERVER_BIN = path.join(CODE_SERVER_DIR, 'node_modules', '.bin', 'code-server');
export const CHROMIUM = process.env.IL_CHROMIUM ?? '/usr/bin/chromium';

/** Undefined when code-server and chromium are there, else what to run. */
export function missingPrerequisite(): string | undefined {
  if (!fs.existsSync(CODE_SERVER_BIN)) {
    return `code-server is not installed in ${CODE_SERVER_DIR}: run scripts/install-code-server.sh (or set IL_CODE_SERVER_DIR)`;
  }
  if (!fs.existsSync(CHROMIUM)) return `chromium not found at ${CHROMIUM}: run scripts/install-code-server.sh (it installs chromium)`;
  return undefined;
}

export interface CodeServerDirs {
  root: string;
  config: string;
  userData: string;
  extensions: string;
}

export function makeDirs(root: string): CodeServerDirs {
  const dirs = {
    root,
    config: path.join(root, 'config.yaml'),
    userData: path.join(root, 'user-data'),
    extensions: path.join(root, 'extensions'),
  };
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.mkdirSync(dirs.extensions, { recursive: true });
  fs.writeFileSync(dirs.config, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');
  return dirs;
}

/** User settings that keep the workbench quiet, plus the test's own. */
export function writeUserSettings(dirs: CodeServerDirs, extra: Record<string, unknown> = {}): void {
  const settings = {
    'workbench.startupEditor': 'none',
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'git.enabled': false,
    'workbench.tips.enabled': false,
    'workbench.colorTheme': 'Default Dark Modern',
    'window.commandCenter': false,
    ...extra,
  };
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
}

function baseArgs(dirs: CodeServerDirs): string[] {
  return ['--config', dirs.config, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
}

export async function installExtension(dirs: CodeServerDirs, vsix: string): Promise<void> {
  await execFileAsync(CODE_SERVER_BIN, [...baseArgs(dirs), '--install-extension', vsix], { timeout: 120_000, maxBuffer: 1 << 24 });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningCodeServer {
  url: string;
  process: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startCodeServer(
  dirs: CodeServerDirs,
  workspace: string,
  options: { trust: 'disabled' | 'ask'; env?: Record<string, string> },
): Promise<RunningCodeServer> {
  const port = await freePort();
  const args = [
    ...baseArgs(dirs),
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    ...(options.trust === 'disabled' ? ['--disable-workspace-trust'] : []),
    workspace,
  ];
  // detached: its own process group (setsid), so stop() ends code-server and every process it started.
  const child = spawn(CODE_SERVER_BIN, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  // Even if the test process ends abruptly (timeout, Ctrl+C), take the whole group down with it.
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killGroup);
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const stop = async (): Promise<void> => {
    if (child.pid === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // group already gone
      }
      const timer = setTimeout(killGroup, 5_000);
      await exited;
      clearTimeout(timer);
    }
    // Children that outlive the leader (extension host, file watcher) still belong to the group.
    killGroup();
    process.removeListener('exit', killGroup);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${log}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer on ${url}/healthz within 60 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, process: child, output: () => log, stop };
}

/** Every file under `dir` whose name satisfies `match` (depth-first). */
export function findFiles(dir: string, match: (name: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findFiles(full, match));
    else if (match(entry.name)) found.push(full);
  }
  return found;
}
