import type { ReactiveController, ReactiveControllerHost } from "lit";

/**
 * Reads a tab's data again after a pause while something it shows is still under way (a
 * segment being counted, a delivery or an export in flight), and stops when the tab goes.
 */
export class RefreshController implements ReactiveController {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    host: ReactiveControllerHost,
    private readonly everyMs: number,
  ) {
    host.addController(this);
  }

  /** After `everyMs`, `read` runs, if `underWay`; an earlier pending read is replaced. */
  schedule(underWay: boolean, read: () => void): void {
    clearTimeout(this.timer);
    if (underWay) this.timer = setTimeout(read, this.everyMs);
  }

  hostDisconnected(): void {
    clearTimeout(this.timer);
  }
}
