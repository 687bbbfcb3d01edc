/**
 * `vae-lens report`: one self-contained HTML file with the run panel (one run) or the compare
 * panel (several runs). It is the panels' own page and webview bundle, with the scripts, styles,
 * run data and images inlined (images as data: URIs) and a tiny host shim in the bundle instead of
 * VS Code: the file opens offline in any browser and can be mailed or attached to a paper.
 */
import { existsSync, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { RunEvent } from '../../shared/events';
import { readRun } from '../../node/runFolder';
import { makeNonce, PANEL_ASSETS, renderPanelHtml, REPORT_DATA_ID, reportCsp } from '../../shared/panelHtml';
import { MAX_COMPARE_RUNS, toRunView, type SnapshotMessage } from '../../shared/protocol';
import { DEFAULT_HEALTH_SETTINGS } from '../../shared/health';

/** At most this many epochs' images per run are embedded (evenly spaced, first and last kept), so a long run's report stays small. */
export const MAX_EMBEDDED_IMAGE_EPOCHS = 50;


/**
 * The extension's root (the folder with dist/ and media/): from the CLI bundle it is dist/.. ;
 * from tests and benches the VAE_LENS_ROOT variable or the working folder.
 */
export function findAssetRoot(): string {
  const candidates = [resolve(__dirname, '..'), process.env.VAE_LENS_ROOT, process.cwd()].filter((c): c is string => !!c);
  for (const root of candidates) {
    if (PANEL_ASSETS.scripts.every((s) => existsSync(join(root, s.path))) && existsSync(join(root, 'media', 'panel.css'))) return root;
  }
  throw new Error(`The report needs the built panels (dist/webview.js, dist/media/plotly.min.js, media/panel.css); looked in ${candidates.join(', ')}. Run npm run build first.`);
}

/** Epochs whose images go into the report. */
export function epochsToEmbed(epochs: number[], max = MAX_EMBEDDED_IMAGE_EPOCHS): Set<number> {
  if (epochs.length <= max) return new Set(epochs);
  const keep = new Set<number>();
  for (let i = 0; i < max; i++) keep.add(epochs[Math.round((i * (epochs.length - 1)) / (max - 1))]);
  return keep;
}

async function embedImages(dir: string, events: RunEvent[]): Promise<Record<string, string>> {
  const withImages = events.filter((e) => e.type === 'epoch' && (e.images?.samples || e.images?.recon)).map((e) => (e as { epoch: number }).epoch);
  const keep = epochsToEmbed([...new Set(withImages)].sort((a, b) => a - b));
  const images: Record<string, string> = {};
  for (const e of events) {
    if (e.type !== 'epoch' || !keep.has(e.epoch)) continue;
    for (const rel of [e.images.samples, e.images.recon]) {
      if (!rel || images[rel]) continue;
      const file = resolve(dir, rel);
      if (!file.startsWith(resolve(dir))) continue;
      try {
        images[rel] = `data:image/png;base64,${(await fs.readFile(file)).toString('base64')}`;
      } catch {
        // An image that is missing (deleted, or the run crashed before writing it) is shown as missing.
      }
    }
  }
  return images;
}

/** JSON that is safe inside a <script> data block. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export async function buildReportHtml(runDirs: string[]): Promise<string> {
  if (runDirs.length === 0) throw new Error('A report needs at least one run folder.');
  if (runDirs.length > MAX_COMPARE_RUNS) throw new Error(`A report compares at most ${MAX_COMPARE_RUNS} runs (got ${runDirs.length}).`);
  const root = findAssetRoot();
  const runs = await Promise.all(
    runDirs.map(async (dir) => {
      const run = await readRun(resolve(dir));
      return toRunView(run, '', await embedImages(run.dir, run.events));
    }),
  );
  const panel = runs.length === 1 ? 'run' : 'compare';
  // Outside VS Code there are no user settings: the report judges by the default thresholds.
  const snapshot: SnapshotMessage = { type: 'snapshot', v: 1, panel, interactive: false, runs, health: { ...DEFAULT_HEALTH_SETTINGS } };
  const read = (path: string) => fs.readFile(join(root, path), 'utf8');
  const codiconFont = (await fs.readFile(join(root, 'dist', 'media', 'codicon.ttf'))).toString('base64');
  const codiconCss = (await read('dist/media/codicon.css')).replace(/url\(["']?\.\/codicon\.ttf[^)"']*["']?\)/g, `url("data:font/ttf;base64,${codiconFont}")`);
  const styles = [{ text: await read('media/report-theme.css') }, { text: codiconCss }, { text: await read('media/panel.css') }];
  const scripts = await Promise.all(PANEL_ASSETS.scripts.map(async (s) => ({ text: await read(s.path), module: s.module })));
  const nonce = makeNonce((n) => randomBytes(n));
  const title = panel === 'run' ? `VAE Lens report: ${runs[0].info.name}` : `VAE Lens report: ${runs.map((r) => r.info.name).join(' vs ')}`;
  return renderPanelHtml({
    title,
    panel,
    nonce,
    csp: reportCsp(nonce),
    styles,
    scripts,
    extraBody: `<script type="application/json" id="${REPORT_DATA_ID}">${scriptJson(snapshot)}</script>`,
  });
}

/** Writes the report (atomically: a reader never sees half a file). */
export async function writeReport(runDirs: string[], outFile: string): Promise<void> {
  const html = await buildReportHtml(runDirs);
  await fs.mkdir(dirname(resolve(outFile)), { recursive: true });
  const tmp = join(dirname(resolve(outFile)), `.${basename(outFile)}.${process.pid}.tmp`);
  await fs.writeFile(tmp, html);
  await fs.rename(tmp, outFile);
}
