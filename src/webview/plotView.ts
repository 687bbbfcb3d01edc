/**
 * A chart that draws only when it can be seen. A chart is sized from its container when drawing; a
 * container in a hidden tab, or inside a custom element that has not rendered its slots yet, has no
 * size, and a figure drawn then overflows its box. So a chart that cannot be seen is marked stale
 * and drawn in full once a ResizeObserver reports a size; updates meanwhile cost nothing. Drawing
 * calls on one chart run one after another (a queue), never interleaved. VisibleView is that rule;
 * PlotView draws with Plotly (the line charts), the heat map draws on its own canvas.
 */
import { plotly, PLOT_CONFIG, type PlotData, type PlotElement, type PlotLayout } from './plotly';

/**
 * Extending a figure redraws it (Plotly re-renders every trace of a figure on extendTraces): with
 * 1,000 epochs that is a few milliseconds to tens of milliseconds per figure. Updates from one
 * message are therefore spread over animation frames, one figure per frame, so no frame is blocked
 * by all figures at once and the panel stays responsive while a long run trains.
 */
const frameQueue: Array<() => void> = [];
let frameScheduled = false;

function runNextInFrame(): void {
  frameScheduled = false;
  const job = frameQueue.shift();
  job?.();
  if (frameQueue.length) scheduleFrame();
}

function scheduleFrame(): void {
  if (frameScheduled) return;
  frameScheduled = true;
  // requestAnimationFrame does not fire while the page is not rendered; the timeout keeps updates flowing then.
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    runNextInFrame();
  };
  requestAnimationFrame(once);
  setTimeout(once, 100);
}

export function inOwnFrame<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    frameQueue.push(() => void work().then(resolve, reject));
    scheduleFrame();
  });
}

export abstract class VisibleView<E extends HTMLElement = HTMLElement> {
  protected drawn = false;
  protected stale = true;
  private visible = true;
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly el: E) {
    new ResizeObserver(() => {
      if (!this.canDraw()) return;
      void this.enqueue(async () => {
        if (!this.drawn || this.stale) await this.draw();
        else await this.resized();
      });
    }).observe(el);
  }

  /** Draws everything from the data, into an element that has a size. */
  protected abstract drawAll(): Promise<void> | void;

  /** The element's size changed after a full draw. */
  protected abstract resized(): Promise<void> | void;

  /** Adds what is new since the last full draw (called only when the chart is drawn and up to date). */
  protected abstract extend(): Promise<void> | void;

  private canDraw(): boolean {
    return this.visible && this.el.isConnected && this.el.clientWidth > 0;
  }

  protected enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async draw(): Promise<void> {
    if (!this.canDraw()) {
      this.stale = true;
      return;
    }
    await this.drawAll();
    this.drawn = true;
    this.stale = false;
  }

  /** Draws everything again from the data (snapshot, option or theme change). */
  render(): Promise<void> {
    return this.enqueue(() => this.draw());
  }

  /** New data: extended in place when the figure is up to date, else drawn in full when it can be seen. */
  update(): Promise<void> {
    if (!this.canDraw()) {
      this.stale = true;
      return Promise.resolve();
    }
    return this.enqueue(() =>
      inOwnFrame(async () => {
        if (this.drawn && !this.stale && this.canDraw()) await this.extend();
        else await this.draw();
      }),
    );
  }

  show(): Promise<void> {
    this.visible = true;
    return this.enqueue(async () => {
      if (!this.drawn || this.stale) await this.draw();
    });
  }

  hide(): void {
    this.visible = false;
  }
}

/** A Plotly figure drawn only when it can be seen. */
export abstract class PlotView extends VisibleView<PlotElement> {
  protected abstract figure(): { data: PlotData[]; layout: PlotLayout };

  protected async drawAll(): Promise<void> {
    const { data, layout } = this.figure();
    const p = await plotly();
    if (this.drawn) await p.react(this.el, data, layout, PLOT_CONFIG);
    else await p.newPlot(this.el, data, layout, PLOT_CONFIG);
  }

  protected async resized(): Promise<void> {
    await (await plotly()).Plots.resize(this.el);
  }
}
