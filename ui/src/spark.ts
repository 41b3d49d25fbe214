// Sparklines as SVG markup (the apps page must not load uPlot).

/** A small SVG sparkline, as markup. */
export function sparkline(values: number[], colour: string, w = 120, h = 28) {
  if (!values.length) return `<svg width="${w}" height="${h}" aria-hidden="true"></svg>`;
  const max = Math.max(1, ...values);
  const dx = values.length > 1 ? w / (values.length - 1) : w;
  const pts = values.map((v, i) => `${(i * dx).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`).join(' ');
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" aria-hidden="true"><polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${pts}"/><polyline fill="${colour}" fill-opacity="0.15" stroke="none" points="0,${h} ${pts} ${w},${h}"/></svg>`;
}
