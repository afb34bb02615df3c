import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { ConsoleLayout } from '../store/console-layout.js';
import { MIN_COLUMNS, MIN_ROWS } from '../store/console-layout.js';
import type { CarView, FleetSnapshot } from '../store/types.js';
import type { MapStation } from '../store/braille-map.js';
import { CarList } from './CarList.js';
import { ConsoleMap } from './ConsoleMap.js';
import { CriticalAlert } from './CriticalAlert.js';
import { FeedPanel } from './FeedPanel.js';
import { FleetSummary } from './FleetSummary.js';
import { Header } from './Header.js';
import { PricePanel } from './PricePanel.js';
import { StationList } from './StationList.js';

export interface ConsoleProps {
  snap: FleetSnapshot;
  layout: ConsoleLayout;
  sourceLabel: string;
  showLag: boolean;
  focus: 'stations' | 'cars';
  stationId?: string;
  carId?: string;
  cars: CarView[];
  carsTitle: string;
  mapStations: MapStation[];
  selectedOnMap?: { lat: number; lon: number; station?: number };
  feedOffset: number;
  /** Replaces the side column (a drill-down, the nearest answer) or the whole middle band (help). */
  side?: ReactNode;
  overlay?: ReactNode;
  /** The action line: prompt, confirmation or the last result. */
  actionLine: ReactNode;
  keyBar: ReactNode;
}

/** The full-screen console: every panel at a fixed height so the frame is exactly one screen. */
export function Console(p: ConsoleProps) {
  const { snap, layout: l } = p;
  if (l.tooSmall) {
    return (
      <Text color="yellow" wrap="truncate">
        Enlarge the terminal to at least {MIN_COLUMNS}×{MIN_ROWS} (now {l.columns}×{l.height + 1}) · q quits
      </Text>
    );
  }
  return (
    <Box flexDirection="column" width={l.columns} height={l.height}>
      <Header label={p.sourceLabel} status={snap.status} rate={snap.rate} total={snap.total} lag={snap.lag} showLag={p.showLag} paused={snap.paused} pausedSkipped={snap.pausedSkipped} />
      <Box height={1} overflow="hidden">
        <FleetSummary bands={snap.bands} criticalCount={snap.criticalCount} />
      </Box>
      <Box height={1} overflow="hidden">
        <CriticalAlert critical={snap.critical} count={snap.criticalCount} />
      </Box>
      <Box height={l.bodyRows} overflow="hidden">
        {p.overlay ?? (
          <>
            <ConsoleMap cars={snap.cars} stations={p.mapStations} cols={l.mapCols} rows={l.mapRows} selected={p.selectedOnMap} version={snap.version} />
            <Box flexDirection="column" marginLeft={1} width={l.sideWidth} height={l.bodyRows} overflow="hidden">
              {p.side ?? <SideColumn {...p} />}
            </Box>
          </>
        )}
      </Box>
      <FeedPanel items={snap.scrollback} rows={l.feedRows} width={l.columns} offset={p.feedOffset} skipped={snap.feedSkipped} rate={snap.rate} paused={snap.paused} />
      <Box height={1} overflow="hidden">
        {p.actionLine}
      </Box>
      <Box height={1} overflow="hidden">
        {p.keyBar}
      </Box>
    </Box>
  );
}

function SideColumn(p: ConsoleProps) {
  const { snap, layout: l } = p;
  return (
    <>
      <StationList stations={snap.stations} selectedId={p.stationId} focused={p.focus === 'stations'} rows={l.stationRows} width={l.sideWidth} priceNow={snap.priceNow?.value} truth={snap.stationTruth} />
      <CarList cars={p.cars} selectedId={p.carId} focused={p.focus === 'cars'} rows={l.carRows} title={p.carsTitle} />
      {l.pricePanel && (
        <Box marginTop={1} height={2} overflow="hidden">
          <PricePanel price={snap.price && snap.priceNow ? { ...snap.price, price_per_kwh: snap.priceNow.value } : snap.price} forecast={snap.forecast} error={snap.priceError} width={l.sideWidth} />
        </Box>
      )}
    </>
  );
}
