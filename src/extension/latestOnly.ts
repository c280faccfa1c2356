/**
 * At most one analysis run at a time: starting a run (or calling `cancel`) aborts the one before it, so a
 * superseded run never publishes its result. Pure, no VS Code API.
 */
export class LatestOnly {
  private controller: AbortController | undefined;
  private generation = 0;

  /** Aborts the current run, if any, and returns the signal and a `isCurrent` check for the new one. */
  start(): { signal: AbortSignal; isCurrent: () => boolean; generation: number } {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const generation = ++this.generation;
    return { signal: controller.signal, isCurrent: () => this.generation === generation && !controller.signal.aborted, generation };
  }

  cancel(): void {
    this.controller?.abort();
    this.controller = undefined;
  }

  get running(): boolean {
    return this.controller !== undefined && !this.controller.signal.aborted;
  }

  /** Marks the run with this signal as finished; it stays current (`isCurrent`) until the next start. */
  finish(signal: AbortSignal): void {
    if (this.controller?.signal === signal) this.controller = undefined;
  }
}

/** Calls `fn` once `delayMs` after the last `trigger`. */
export class Debouncer {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly fn: () => void) {}

  trigger(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fn();
    }, delayMs);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
