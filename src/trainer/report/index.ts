/**
 * `vae-lens report`: one self-contained HTML file with the run panel (one run) or the compare
 * panel (several runs). It is the panels' own page and webview bundle, with the scripts, styles,
 * run data and images inlined (images as data: URIs) and a tiny host shim in the bundle instead of
 * VS Code: the file opens offline in any browser and can be mailed or attached to a paper.
 */
import { createReadStream, existsSync, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { EventLineBuffer, type RunEvent, type WarningEvent } from '../../shared/events';
import { EpochHistory } from '../../shared/history';
import { EVENTS_FILE, type RunInfo } from '../../shared/run';
import { readRunInfo } from '../../node/runFolder';
import { localProcessProbe } from '../../node/processProbe';
import { effectiveStatus } from '../../shared/liveness';
import { makeNonce, PANEL_ASSETS, renderPanelHtml, REPORT_DATA_ID, reportCsp } from '../../shared/panelHtml';
import { toRunView, type SnapshotMessage } from '../../shared/protocol';
import { MAX_COMPARE_RUNS } from '../../shared/runRules';
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

/** Images larger than this are not embedded (a run's PNGs are a few kB). */
const MAX_IMAGE_BYTES = 8 << 20;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The bytes of an image an event names, only if it is a regular PNG file inside the run folder once
 * every link is resolved: a path with `..`, an absolute path, or a link that leads out of the folder
 * (samples/epoch-0001.png -> /etc/passwd) embeds nothing, so a run folder from elsewhere cannot make
 * a report carry other files.
 */
export async function containedImage(runDir: string, rel: unknown): Promise<Buffer | undefined> {
  if (typeof rel !== 'string' || !/\.png$/i.test(rel)) return undefined;
  try {
    const root = await fs.realpath(runDir);
    const real = await fs.realpath(resolve(root, rel));
    if (!real.startsWith(root + sep)) return undefined;
    const handle = await fs.open(real, 'r');
    try {
      const stat = await handle.stat();
      if (!stat.isFile() || stat.size > MAX_IMAGE_BYTES) return undefined;
      const bytes = await handle.readFile();
      return bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE) ? bytes : undefined;
    } finally {
      await handle.close();
    }
  } catch {
    // Missing (deleted, or the run crashed before writing it): shown as missing.
    return undefined;
  }
}

async function embedImages(dir: string, events: RunEvent[]): Promise<Record<string, string>> {
  const withImages = events.filter((e) => e.type === 'epoch' && (e.images?.samples || e.images?.recon)).map((e) => (e as { epoch: number }).epoch);
  const keep = epochsToEmbed([...new Set(withImages)].sort((a, b) => a - b));
  const images: Record<string, string> = {};
  for (const e of events) {
    if (e.type !== 'epoch' || !keep.has(e.epoch)) continue;
    for (const rel of [e.images?.samples, e.images?.recon]) {
      if (!rel || images[rel]) continue;
      const bytes = await containedImage(dir, rel);
      if (bytes) images[rel] = `data:image/png;base64,${bytes.toString('base64')}`;
    }
  }
  return images;
}

/** At most this many warnings per run go into a report (the latest). */
export const MAX_REPORT_WARNINGS = 500;

/** An epoch event whose charted numbers are numbers (a hand-edited or foreign line may lack them). */
/**
 * A run as the report draws it, read in chunks: events.jsonl is streamed, its epochs downsampled
 * (every epoch of the last ones, a min/max envelope before: shared/history.ts) and its latest
 * warnings kept, so a 100,000-epoch run needs neither its whole file in memory nor a huge page.
 */
export async function readRunForReport(dir: string): Promise<{ dir: string; info: RunInfo; events: RunEvent[]; epochsRead: number; undrawable: number }> {
  // readRunInfo refuses a run.json that breaks the schema, naming the field at fault.
  const info = await readRunInfo(dir);
  const history = new EpochHistory();
  const warnings: WarningEvent[] = [];
  const lines = new EventLineBuffer();
  const take = (events: RunEvent[]) => {
    for (const e of events) {
      if (e.type === 'epoch') history.add(e);
      else if (e.type === 'warning') {
        warnings.push(e);
        if (warnings.length > 2 * MAX_REPORT_WARNINGS) warnings.splice(0, warnings.length - MAX_REPORT_WARNINGS);
      }
    }
  };
  try {
    for await (const chunk of createReadStream(join(dir, EVENTS_FILE), { encoding: 'utf8', highWaterMark: 1 << 20 })) take(lines.push(chunk as string));
    take(lines.push('\n'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  // A live status whose trainer is gone (killed, crashed, a full disk) is drawn as interrupted, by the rule the extension uses.
  const shown: RunInfo = { ...info, status: effectiveStatus(info, localProcessProbe, new Date()) };
  return { dir, info: shown, events: [...history.result(), ...warnings.slice(-MAX_REPORT_WARNINGS)], epochsRead: history.added, undrawable: lines.skipped };
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
      const run = await readRunForReport(resolve(dir));
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
