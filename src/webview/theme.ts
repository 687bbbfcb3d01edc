/**
 * Colours come only from VS Code's --vscode-* CSS variables, read when drawing (Plotly takes colours
 * as values, not CSS), and re-read when the theme changes: VS Code swaps the body class
 * (vscode-light / vscode-dark / vscode-high-contrast) and the variables on <html>.
 */
export interface ChartTheme {
  foreground: string;
  muted: string;
  grid: string;
  fontFamily: string;
  fontSize: number;
  train: string;
  test: string;
  /** One colour per run in the compare panel, used everywhere for that run. */
  runs: string[];
  /** Plotly colour scale for heat maps, from the editor background to the chart accent. */
  heatScale: Array<[number, string]>;
}

export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim() || getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

const RUN_COLOUR_VARS = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];
const RUN_COLOUR_FALLBACKS = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];

export function readTheme(): ChartTheme {
  const foreground = cssVar('--vscode-editor-foreground', cssVar('--vscode-foreground', '#cccccc'));
  const runs = RUN_COLOUR_VARS.map((v, i) => cssVar(v, RUN_COLOUR_FALLBACKS[i]));
  return {
    foreground,
    muted: cssVar('--vscode-descriptionForeground', foreground),
    grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', 'rgba(128,128,128,0.35)')),
    fontFamily: cssVar('--vscode-font-family', 'sans-serif'),
    fontSize: parseFloat(cssVar('--vscode-font-size', '13')) || 13,
    train: runs[0],
    test: runs[1],
    runs,
    heatScale: [
      [0, cssVar('--vscode-editor-background', '#1e1e1e')],
      [0.5, runs[0]],
      [1, runs[5]],
    ],
  };
}

/** Calls `onChange` after VS Code switches the colour theme. */
export function watchTheme(onChange: () => void): void {
  let pending = false;
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      onChange();
    });
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
}

/** The axis and font part of a Plotly layout for the current theme. */
export function baseLayout(theme: ChartTheme): Record<string, unknown> {
  // Fixed margins instead of automargin: automargin measures the tick labels and lays the figure out
  // again on every redraw, and a live chart is redrawn on every epoch (≈ 20% of an extendTraces).
  const axis = { color: theme.muted, gridcolor: theme.grid, zerolinecolor: theme.grid, linecolor: theme.grid, automargin: false };
  return {
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    font: { family: theme.fontFamily, size: theme.fontSize - 1, color: theme.foreground },
    margin: { l: 66, r: 14, t: 34, b: 42 },
    xaxis: { ...axis, title: { text: 'epoch' } },
    yaxis: { ...axis },
    legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1.02, yanchor: 'bottom', font: { color: theme.foreground }, bgcolor: 'rgba(0,0,0,0)' },
    hovermode: 'x unified',
    hoverlabel: { bgcolor: cssVar('--vscode-editorHoverWidget-background', '#252526'), bordercolor: cssVar('--vscode-editorHoverWidget-border', '#454545'), font: { color: cssVar('--vscode-editorHoverWidget-foreground', theme.foreground) } },
  };
}
