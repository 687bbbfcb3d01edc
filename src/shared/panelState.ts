/**
 * What a panel's webview persists with setState, and the extension's serializer reads back after a
 * window reload: which runs the panel shows and its UI state (tab, image epoch, axes, smoothing).
 * Persisted state is input from an older version or another machine, so every read falls back to
 * defaults field by field.
 */
import { canCompare } from './runRules';
import { isPlainObject } from './schema';

/** Which view a panel shows: one run, or several runs overlaid (runRules' compare bounds). */
export type PanelKind = 'run' | 'compare';

/** The run panel's tabs, in order (Latent after Images, so the tabs before it keep their places). */
export const RUN_TABS = ['curves', 'dimensions', 'images', 'latent', 'config'] as const;
export type RunTab = (typeof RUN_TABS)[number];
export const HEATMAP_METRICS = ['sigma', 'kl', 'varMu'] as const;
export type HeatmapMetric = (typeof HEATMAP_METRICS)[number];

export interface UiState {
  tab: RunTab;
  /** Epoch shown in the image views; null follows the latest epoch. */
  imageEpoch: number | null;
  logY: boolean;
  /** Exponential smoothing weight in [0, 0.99]; 0 shows the raw traces only. */
  smoothing: number;
  heatmapMetric: HeatmapMetric;
}

export const DEFAULT_UI_STATE: UiState = { tab: 'curves', imageEpoch: null, logY: false, smoothing: 0.6, heatmapMetric: 'kl' };

/** What a panel's webview persists: which runs it shows (so it can be restored after a reload) and its UI state. */
export interface PanelState {
  panel: PanelKind;
  dirs: string[];
  ui: UiState;
}

/** Reads persisted UI state, falling back to defaults field by field (state from an older version must not break a panel). */
export function parseUiState(value: unknown): UiState {
  const v = isPlainObject(value) ? value : {};
  const tab = (RUN_TABS as readonly unknown[]).includes(v.tab) ? (v.tab as RunTab) : DEFAULT_UI_STATE.tab;
  const imageEpoch = typeof v.imageEpoch === 'number' && Number.isInteger(v.imageEpoch) && v.imageEpoch >= 1 ? v.imageEpoch : null;
  const logY = typeof v.logY === 'boolean' ? v.logY : DEFAULT_UI_STATE.logY;
  const smoothing = typeof v.smoothing === 'number' && v.smoothing >= 0 && v.smoothing <= 0.99 ? v.smoothing : DEFAULT_UI_STATE.smoothing;
  const heatmapMetric = (HEATMAP_METRICS as readonly unknown[]).includes(v.heatmapMetric) ? (v.heatmapMetric as HeatmapMetric) : DEFAULT_UI_STATE.heatmapMetric;
  return { tab, imageEpoch, logY, smoothing, heatmapMetric };
}

/** Reads the state a serializer is handed on restore; undefined when it cannot name the runs to show. */
export function parsePanelState(value: unknown): PanelState | undefined {
  if (!isPlainObject(value)) return undefined;
  const panel = value.panel;
  if (panel !== 'run' && panel !== 'compare') return undefined;
  const dirs = value.dirs;
  if (!Array.isArray(dirs) || !dirs.every((d) => typeof d === 'string' && d.length > 0 && d.length <= 4096)) return undefined;
  if (panel === 'run' && dirs.length !== 1) return undefined;
  if (panel === 'compare' && !canCompare(dirs.length)) return undefined;
  return { panel, dirs: dirs as string[], ui: parseUiState(value.ui) };
}

