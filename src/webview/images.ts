/**
 * Image grids for a chosen epoch (prior samples, reconstructions; in the compare panel one per run),
 * all driven by ONE epoch slider, with a "follow latest" mode that moves to each new epoch.
 */
import { h } from './dom';

export interface ImageSlot {
  caption: string;
  /** Optional short tag shown before the caption, e.g. a run's colour swatch. */
  swatch?: string;
  /** The image URL for an epoch, or undefined when that epoch has none. */
  src: (epoch: number) => string | undefined;
  alt: (epoch: number) => string;
}

interface CheckboxLike extends HTMLElement {
  checked: boolean;
}

let nextId = 0;

/** A small square in a run's colour (set through CSSOM, not a style attribute). */
export function swatch(colour: string): HTMLElement {
  const el = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  el.style.backgroundColor = colour;
  return el;
}

export class EpochImages {
  readonly el: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly output: HTMLOutputElement;
  private readonly follow: CheckboxLike;
  private readonly figures: Array<{ img: HTMLImageElement; note: HTMLElement; slot: ImageSlot }> = [];
  private readonly grid: HTMLElement;
  private readonly unavailableNote = h('p', { class: 'image-note', 'data-testid': 'images-unavailable' });
  private unavailable: string | null = null;
  private epochs: number[] = [];
  private following: boolean;
  private chosen: number | null;

  constructor(
    slots: ImageSlot[],
    initialEpoch: number | null,
    private readonly onChange: (epoch: number | null) => void,
  ) {
    const id = `epoch-slider-${nextId++}`;
    this.following = initialEpoch === null;
    this.chosen = initialEpoch;
    this.slider = h('input', { type: 'range', id, min: 0, max: 0, step: 1, value: 0, class: 'epoch-slider', 'data-testid': 'epoch-slider' });
    this.output = h('output', { for: id, class: 'epoch-output', 'data-testid': 'epoch-output' }, '–');
    this.follow = h('vscode-checkbox', { label: 'Follow latest epoch', 'data-testid': 'follow-latest', checked: this.following }) as CheckboxLike;
    const grid = (this.grid = h('div', { class: 'image-grid' }));
    for (const slot of slots) {
      const img = h('img', { class: 'epoch-image', alt: '', 'data-testid': 'epoch-image' });
      const note = h('div', { class: 'image-note' });
      // A run folder may have lost an image (deleted, or a crash before it was written): say so instead of a broken icon.
      img.addEventListener('error', () => {
        if (!img.getAttribute('src') || this.unavailable) return;
        img.hidden = true;
        note.textContent = `The image ${img.getAttribute('src')?.split('/').slice(-2).join('/')} could not be loaded.`;
      });
      const caption = h('figcaption', {}, slot.swatch ? swatch(slot.swatch) : null, slot.caption);
      grid.append(h('figure', { class: 'image-figure' }, caption, img, note));
      this.figures.push({ img, note, slot });
    }
    this.el = h('div', { class: 'epoch-images' },
      h('div', { class: 'image-controls' }, h('label', { for: id }, 'Epoch'), this.slider, this.output, this.follow),
      this.unavailableNote,
      grid,
    );
    this.slider.addEventListener('input', () => {
      const epoch = this.epochs[Number(this.slider.value)];
      if (epoch === undefined) return;
      this.following = epoch === this.epochs[this.epochs.length - 1] && this.following;
      this.setFollowChecked(this.following);
      this.chosen = epoch;
      this.show(epoch);
      this.onChange(this.following ? null : epoch);
    });
    this.follow.addEventListener('change', () => {
      this.following = this.follow.checked;
      if (this.following) this.showLatest();
      this.onChange(this.following ? null : this.chosen);
    });
  }

  private setFollowChecked(value: boolean): void {
    if (value) this.follow.setAttribute('checked', '');
    else this.follow.removeAttribute('checked');
    this.follow.checked = value;
  }

  /**
   * Why no image can be shown at all (e.g. the run folder is gone), or null. While set, the grids
   * are hidden and this note shows instead of "no images yet" or a failed load per image.
   */
  setUnavailable(note: string | null): void {
    this.unavailable = note;
    this.unavailableNote.textContent = note ?? '';
    this.grid.hidden = note !== null;
    this.setEpochs(this.epochs);
  }

  /** The epochs that have images (sorted); called on snapshot and on every append. */
  setEpochs(epochs: number[]): void {
    this.epochs = epochs;
    this.slider.max = String(Math.max(0, epochs.length - 1));
    this.slider.disabled = epochs.length === 0;
    if (epochs.length === 0) {
      this.output.textContent = this.unavailable ? '–' : 'no images yet';
      return;
    }
    if (this.following || this.chosen === null) this.showLatest();
    else this.show(this.nearest(this.chosen));
  }

  private nearest(epoch: number): number {
    let best = this.epochs[0];
    for (const e of this.epochs) if (e <= epoch) best = e;
    return best;
  }

  private showLatest(): void {
    const latest = this.epochs[this.epochs.length - 1];
    if (latest !== undefined) this.show(latest);
  }

  get epoch(): number | undefined {
    return this.epochs[Number(this.slider.value)];
  }

  show(epoch: number): void {
    const index = this.epochs.indexOf(epoch);
    if (index < 0) return;
    this.slider.value = String(index);
    const last = this.epochs[this.epochs.length - 1];
    const text = `epoch ${epoch} of ${last}`;
    this.output.textContent = text;
    this.slider.setAttribute('aria-valuetext', text);
    for (const { img, note, slot } of this.figures) {
      const src = slot.src(epoch);
      if (src) {
        if (img.getAttribute('src') !== src) img.src = src;
        img.alt = slot.alt(epoch);
        img.hidden = false;
        note.textContent = '';
      } else {
        img.removeAttribute('src');
        img.hidden = true;
        note.textContent = `No image for epoch ${epoch}.`;
      }
    }
  }
}
