/**
 * A Plotly figure that draws only when it can be seen. Plotly sizes a figure from its container
 * when drawing; a container in a hidden tab, or inside a custom element that has not rendered its
 * slots yet, has no size, and a figure drawn then overflows its box. So a figure that cannot be
 * seen is marked stale and drawn in full once a ResizeObserver reports a size; updates meanwhile
 * cost nothing. Plotly calls on one figure run one after another (a queue), never interleaved.
 */
import { plotly, PLOT_CONFIG, type PlotData, type PlotElement, type PlotLayout } from './plotly';

export abstract class PlotView {
  protected drawn = false;
  protected stale = true;
  private visible = true;
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly el: PlotElement) {
    new ResizeObserver(() => {
      if (!this.canDraw()) return;
      void this.enqueue(async () => {
        if (!this.drawn || this.stale) await this.draw();
        else await plotly().Plots.resize(this.el);
      });
    }).observe(el);
  }

  protected abstract figure(): { data: PlotData[]; layout: PlotLayout };

  /** Called after a full draw; subclasses reset their incremental state here. */
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
    const { data, layout } = this.figure();
    const p = plotly();
    if (this.drawn) await p.react(this.el, data, layout, PLOT_CONFIG);
    else await p.newPlot(this.el, data, layout, PLOT_CONFIG);
    this.drawn = true;
    this.stale = false;
  }

  /** Draws everything again from the data (snapshot, option or theme change). */
  render(): Promise<void> {
    return this.enqueue(() => this.draw());
  }

  /** New data: extended in place when the figure is up to date, else drawn in full when it can be seen. */
  update(): Promise<void> {
    return this.enqueue(async () => {
      if (this.drawn && !this.stale && this.canDraw()) await this.extend();
      else await this.draw();
    });
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
