import { Box, Text } from 'ink';
import type { PricePoint } from '../../ports/price-source.js';
import { fitTo, sparkline } from '../store/sparkline.js';

const loadColor = { Low: 'green', Medium: 'yellow', High: 'red' } as const;

/** Current $/kWh and the next 24 h from the grid forecast; says so when the grid is unreachable. */
export function PricePanel({ price, forecast, error, width }: { price?: PricePoint; forecast: PricePoint[]; error?: string; width: number }) {
  const values = fitTo(forecast, Math.max(8, width - 16)).map((p) => p.price_per_kwh);
  const min = values.length ? Math.min(...values) : 0;
  const max = values.length ? Math.max(...values) : 0;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>Price </Text>
        {price ? (
          <>
            <Text bold color={loadColor[price.grid_load] ?? 'white'}>
              ${price.price_per_kwh.toFixed(2)}/kWh
            </Text>
            <Text dimColor>
              {' '}
              {price.grid_load} load · {price.energy_source}
            </Text>
          </>
        ) : (
          <Text dimColor>–</Text>
        )}
        {error && <Text color="yellow"> (grid: {error})</Text>}
      </Text>
      {values.length > 0 && (
        <Text wrap="truncate">
          <Text dimColor>24h </Text>
          <Text color="cyan">{sparkline(values)}</Text>
          <Text dimColor>
            {' '}
            ${min.toFixed(2)}–${max.toFixed(2)}
          </Text>
        </Text>
      )}
    </Box>
  );
}
