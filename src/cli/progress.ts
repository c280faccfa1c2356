/** Embedding progress on stderr: one redrawn bar on a terminal, a plain line every 10% otherwise (logs, CI). */
import type { EmbedProgress } from '../models/embedder';
import type { CliIo } from './args';

const BAR_WIDTH = 30;

export class ProgressPrinter {
  private readonly tty = process.stderr.isTTY === true;
  private lineOpen = false;
  /** Last decile printed per (kind, model), for plain output. */
  private readonly printed = new Map<string, number>();

  constructor(private readonly io: CliIo) {}

  update(event: EmbedProgress): void {
    if (event.kind === 'wait') {
      this.finish();
      this.io.stderr(`${event.model}: retrying in ${event.waitSeconds ?? 0} s: ${event.reason ?? ''}\n`);
      return;
    }
    const fraction = event.total > 0 ? Math.min(1, event.done / event.total) : 0;
    const what = event.kind === 'embed' ? 'embedding' : `${event.kind === 'load' ? 'loading' : 'downloading'} ${event.file ?? ''}`.trimEnd();
    const counts = event.kind === 'embed' ? `${event.done}/${event.total}` : `${Math.round(fraction * 100)}%`;
    if (this.tty) {
      const filled = Math.round(fraction * BAR_WIDTH);
      const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
      this.io.stderr(`\r\x1b[2K${event.model}: ${what} [${bar}] ${counts}`);
      this.lineOpen = true;
      return;
    }
    const key = `${event.kind}\0${event.model}\0${event.file ?? ''}`;
    const decile = Math.floor(fraction * 10);
    if (this.printed.get(key) === decile) return;
    this.printed.set(key, decile);
    this.io.stderr(`${event.model}: ${what} ${counts}\n`);
  }

  /** Ends the redrawn line so that what follows starts on its own line. */
  finish(): void {
    if (!this.lineOpen) return;
    this.io.stderr('\n');
    this.lineOpen = false;
  }
}
