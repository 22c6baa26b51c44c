// --plot FILE.svg: IOPS over time of every job and direction, one line each,
// from the 500 ms samples, as a small self-contained SVG.
import type { ProgramResult } from './run';

const W = 800;
const H = 400;
const PAD = { left: 70, right: 20, top: 30, bottom: 50 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** A round step for an axis spanning 0..max with about `n` ticks. */
function step(max: number, n: number): number {
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
}

export function plotSvg(res: ProgramResult, sampleMs: number): string {
  const series: Array<{ name: string; values: number[] }> = [];
  for (const g of res.groups)
    for (const i of g.instances)
      for (const [d, dir] of ['read', 'write'].entries())
        if (i.iopsSamples[d].length && i.iopsSamples[d].some((v) => v > 0))
          series.push({ name: `${i.job.name}.${i.jobnum} ${dir} (g${g.id})`, values: i.iopsSamples[d] });
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const top = Math.max(1, ...series.flatMap((s) => s.values));
  const yStep = step(top, 5);
  const yMax = Math.ceil(top / yStep) * yStep;
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const x = (k: number): number => PAD.left + (n === 1 ? pw / 2 : (k / (n - 1)) * pw);
  const y = (v: number): number => PAD.top + ph - (v / yMax) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">kaio bench: IOPS per ${sampleMs} ms sample</text>`,
  ];
  for (let v = 0; v <= yMax; v += yStep) {
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${v >= 1000 ? `${v / 1000}k` : v}</text>`);
  }
  const secs = ((n - 1) * sampleMs) / 1000;
  const xStep = step(secs || 1, 8);
  for (let t = 0; t <= secs + 1e-9; t += xStep) {
    const px = PAD.left + (secs ? (t / secs) * pw : pw / 2);
    out.push(`<text x="${px}" y="${H - PAD.bottom + 16}" text-anchor="middle">${+t.toFixed(3)}</text>`);
  }
  out.push(`<text x="${PAD.left + pw / 2}" y="${H - 12}" text-anchor="middle">seconds</text>`);
  out.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + ph}" stroke="black"/>`);
  out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + ph}" y2="${PAD.top + ph}" stroke="black"/>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = s.values.map((v, k) => `${x(k).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${pts}"><title>${esc(s.name)}</title></polyline>`);
    out.push(`<text x="${PAD.left + 8}" y="${PAD.top + 14 + i * 14}" fill="${c}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
