// Makes docs/study.md's figures from real run folders: `node scripts/study-figures.mjs <out dir>
// <label>=<run folder>...`. For each run it keeps run.json and events.jsonl (the fixtures the figures
// come from; checkpoints stay out) and the prior-sample images of epochs 1, 10 and the last; it draws
// the study's curves (loss, mean μ, mean σ, train and test, every run overlaid) as SVG line charts,
// which read in any Markdown viewer and diff as text.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [out, ...specs] = process.argv.slice(2);
if (!out || specs.length === 0) {
  console.error('usage: node scripts/study-figures.mjs <out dir> <label>=<run folder>...');
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const runs = specs.map((spec, i) => {
  const at = spec.indexOf('=');
  const label = spec.slice(0, at);
  const dir = spec.slice(at + 1);
  const text = readFileSync(join(dir, 'events.jsonl'), 'utf8');
  const byEpoch = new Map();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      continue; // a torn last line
    }
    if (e.type === 'epoch') byEpoch.set(e.epoch, e); // a resumed run's repeated epoch: the later one wins
  }
  const epochs = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  const keep = join(out, label);
  mkdirSync(join(keep, 'samples'), { recursive: true });
  copyFileSync(join(dir, 'run.json'), join(keep, 'run.json'));
  writeFileSync(join(keep, 'events.jsonl'), text.split('\n').filter((l) => l.trim()).join('\n') + '\n');
  const last = epochs.at(-1)?.epoch ?? 0;
  for (const n of [...new Set([1, 10, last])].filter((n) => n >= 1 && n <= last)) {
    const name = `epoch-${String(n).padStart(4, '0')}.png`;
    if (existsSync(join(dir, 'samples', name))) copyFileSync(join(dir, 'samples', name), join(keep, 'samples', name));
  }
  return { label, epochs, colour: COLOURS[i % COLOURS.length] };
});

/** A line chart: x = epoch, one solid (test) and one dashed (train) line per run. */
function chart(file, title, yLabel, value, opts = {}) {
  const W = 640, L = 64, R = 16, T = 36, B = 48 + 18 * runs.length;
  const H = 312 + 18 * runs.length;
  const pts = runs.flatMap((r) => r.epochs.flatMap((e) => [value(e, 'train'), value(e, 'test')])).filter(Number.isFinite);
  let lo = Math.min(...pts, ...(opts.include ?? []));
  let hi = Math.max(...pts, ...(opts.include ?? []));
  const pad = (hi - lo || 1) * 0.06;
  lo -= pad;
  hi += pad;
  const maxEpoch = Math.max(...runs.map((r) => r.epochs.at(-1)?.epoch ?? 1));
  const x = (ep) => L + ((ep - 1) / Math.max(1, maxEpoch - 1)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const ticks = (a, b, n) => {
    const step = niceStep((b - a) / n);
    const out = [];
    for (let t = Math.ceil(a / step) * step; t <= b + 1e-12; t += step) out.push(Number(t.toPrecision(12)));
    return { values: out, digits: Math.max(0, -Math.floor(Math.log10(step))) };
  };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${escape(title)}</text>`,
  ];
  const yTicks = ticks(lo, hi, 5);
  for (const t of yTicks.values) {
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${L - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t.toFixed(yTicks.digits)}</text>`);
  }
  for (const t of ticks(1, maxEpoch, 8).values.filter((t) => Number.isInteger(t))) {
    parts.push(`<text x="${x(t).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${t}</text>`);
  }
  if (opts.target !== undefined) {
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(opts.target).toFixed(1)}" y2="${y(opts.target).toFixed(1)}" stroke="#888" stroke-dasharray="2 3"/>`);
  }
  parts.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#444"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#444"/>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - B + 34}" text-anchor="middle">epoch</text>`);
  parts.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`);
  let legendY = H - B + 52;
  // A run without this measure (trained before the trainer recorded it) is left out, legend too.
  for (const r of runs.filter((r) => r.epochs.some((e) => Number.isFinite(value(e, 'test'))))) {
    for (const split of ['test', 'train']) {
      const d = r.epochs.filter((e) => Number.isFinite(value(e, split))).map((e, i) => `${i ? 'L' : 'M'}${x(e.epoch).toFixed(1)} ${y(value(e, split)).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${r.colour}" stroke-width="1.6"${split === 'train' ? ' stroke-dasharray="5 3"' : ''}/>`);
    }
    parts.push(`<line x1="${L}" x2="${L + 24}" y1="${legendY}" y2="${legendY}" stroke="${r.colour}" stroke-width="2"/>`);
    parts.push(`<text x="${L + 30}" y="${legendY + 4}">${escape(r.label)}${opts.testOnly ? '' : ' (test; train dashed)'}</text>`);
    legendY += 18;
  }
  parts.push('</svg>');
  writeFileSync(join(out, file), parts.join('\n') + '\n');
}

function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}
function escape(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

chart('loss.svg', 'Loss (nats per image)', 'loss', (e, s) => e[s].loss);
chart('mean-mu.svg', 'Mean μ (target 0)', 'mean μ', (e, s) => e[s].meanMu, { target: 0, include: [0] });
chart('mean-sigma.svg', 'Mean σ (target 1)', 'mean σ', (e, s) => e[s].meanSigma, { target: 1, include: [1] });
// The aggregate view: Var(μ_d) + E[σ_d²] over the active dimensions (test set only), the number that decides.
chart('aggregate-variance.svg', 'Var(μ_d) + E[σ_d²], mean over active dimensions (test; target 1)', 'aggregate variance', (e, s) => {
  if (s !== 'test') return NaN;
  const active = e.dims.varMu.map((v, d) => [v, d]).filter(([v]) => v > 0.01).map(([, d]) => d);
  return active.length ? active.reduce((a, d) => a + e.dims.varMu[d] + e.dims.meanSigmaSq[d], 0) / active.length : NaN;
}, { target: 1, include: [1], testOnly: true });

// The study's blind spot: mean σ over the active dimensions only (unused ones sit at σ ≈ 1).
chart('active-sigma.svg', 'Mean σ over the active dimensions only (test)', 'mean σ, active dims', (e, s) => {
  if (s !== 'test') return NaN;
  const active = e.dims.varMu.map((v, d) => [v, d]).filter(([v]) => v > 0.01).map(([, d]) => d);
  return active.length ? active.reduce((a, d) => a + Math.sqrt(e.dims.meanSigmaSq[d]), 0) / active.length : NaN;
}, { target: 1, include: [1], testOnly: true });
chart('active-units.svg', 'Active units, Var(μ_d) > 0.01 (test)', 'active dimensions', (e, s) => (s === 'test' ? e.activeUnits : NaN), { include: [0], testOnly: true });

// The per-epoch diagnostics (every 5 epochs by default; runs trained before they existed have none).
chart('hole-rate.svg', 'Prior hole rate: z ~ N(0, I) where no test posterior puts mass (%)', 'hole rate (%)', (e, s) => {
  const rate = e.diagnostics?.holeRate;
  return s === 'test' && Number.isFinite(rate) ? 100 * rate : NaN;
}, { target: 1, include: [0], testOnly: true });
chart('iw-nll.svg', 'Importance-weighted NLL, k = 100, first 500 test images (nats)', 'IW-NLL', (e, s) => (s === 'test' ? (e.diagnostics?.iwNll?.value ?? NaN) : NaN), { testOnly: true });
chart('marginal-kl.svg', 'Marginal KL(q(z) ‖ p(z)), first 2,000 test images (nats)', 'marginal KL', (e, s) => (s === 'test' ? (e.diagnostics?.marginalKl ?? NaN) : NaN), { testOnly: true });

const summary = runs.map((r) => {
  const last = r.epochs.at(-1);
  const diagnosed = r.epochs.filter((e) => e.diagnostics).at(-1);
  return {
    label: r.label, epochs: last?.epoch, test: last?.test, train: last?.train, activeUnits: last?.activeUnits, dimz: last?.dims.meanMu.length,
    ...(diagnosed ? { diagnostics: { epoch: diagnosed.epoch, ...diagnosed.diagnostics, moments: { ...diagnosed.diagnostics.moments, perDimension: undefined, perEigenvalue: undefined } } } : {}),
  };
});
writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(JSON.stringify(summary, null, 2));
