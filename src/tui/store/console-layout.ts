/** The smallest terminal the console lays out in; below it, one "enlarge the terminal" line. */
export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;

export interface ConsoleLayout {
  tooSmall: boolean;
  columns: number;
  /** Rows the console draws: one fewer than the terminal (Ink clears the screen on every frame otherwise). */
  height: number;
  /** Rows of the middle band (map | side panels). */
  bodyRows: number;
  /** The map canvas inside its border, in cells. */
  mapCols: number;
  mapRows: number;
  sideWidth: number;
  /** Station and car rows (without titles) in the side column. */
  stationRows: number;
  carRows: number;
  /** The price sparkline and cheap window get their own lines only where there is room. */
  pricePanel: boolean;
  /** Feed lines inside the feed panel's border. */
  feedRows: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/**
 * Splits the screen: header, fleet line and alert on top; the map with the stations, cars and
 * price beside it; the feed panel; the action line and the keys at the bottom. Every size from
 * 80×24 up gets all panels; everything scales with the terminal.
 */
export function consoleLayout(columns: number, rows: number): ConsoleLayout {
  const height = rows - 1;
  const tooSmall = columns < MIN_COLUMNS || rows < MIN_ROWS;
  const fixed = 5; // header, fleet line, alert, action line, keys
  const feedRows = clamp(Math.round(height * 0.2), 3, 14);
  const bodyRows = Math.max(6, height - fixed - feedRows - 2);
  const sideWidth = clamp(Math.round(columns * 0.4), 40, 76);
  const mapCols = Math.max(10, columns - sideWidth - 3);
  const mapRows = Math.max(3, bodyRows - 3); // border and legend
  const pricePanel = bodyRows >= 16;
  const listRows = bodyRows - 2 - (pricePanel ? 3 : 0); // two titles, the price panel
  const stationRows = Math.max(2, Math.ceil(listRows * 0.6));
  const carRows = Math.max(1, listRows - stationRows);
  return { tooSmall, columns, height, bodyRows, mapCols, mapRows, sideWidth, stationRows, carRows, pricePanel, feedRows };
}
