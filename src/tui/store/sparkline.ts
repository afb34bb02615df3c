const TICKS = '▁▂▃▄▅▆▇█';

/** A one-line chart of values, scaled between their min and max. */
export function sparkline(values: number[]): string {
  if (!values.length) return '';
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min;
  return values.map((v) => TICKS[span === 0 ? 3 : Math.round(((v - min) / span) * (TICKS.length - 1))]).join('');
}

/** Reduces a series to at most `width` points (keeps every k-th value). */
export function fitTo<T>(values: T[], width: number): T[] {
  if (values.length <= width) return values;
  const step = values.length / width;
  return Array.from({ length: width }, (_, i) => values[Math.floor(i * step)]);
}
