import { mapSize } from './map-grid.js';

export interface DashboardLayout {
  mapCols: number;
  mapRows: number;
  sideWidth: number;
  stationRows: number;
}

/**
 * Splits the terminal: the dashboard keeps ≥ 8 rows free for the scrolling feed above it
 * and stays below the terminal height (Ink redraws the whole screen when it does not).
 */
export function dashboardLayout(columns: number, rows: number): DashboardLayout {
  const chrome = 18; // header, summary, alert, key bar, query/answer box, map border + legend
  const mapRows = Math.max(5, Math.min(30, rows - chrome - 8));
  const { cols: mapCols, rows: fittedRows } = mapSize(Math.floor(columns * 0.4), mapRows);
  const sideWidth = Math.max(30, columns - mapCols - 4);
  return { mapCols, mapRows: fittedRows, sideWidth, stationRows: Math.max(3, fittedRows - 2) };
}
