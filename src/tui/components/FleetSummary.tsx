import { Box, Text } from 'ink';
import type { Band } from '../store/bands.js';
import { bandIcon } from '../store/bands.js';

export interface FleetSummaryProps {
  bands: Record<Band, number>;
  criticalCount: number;
}

/** Cars per battery band, coloured as the original monitor: 🟢 > 50 %, 🟡 20–50 %, 🔴 < 20 %. */
export function FleetSummary({ bands, criticalCount }: FleetSummaryProps) {
  const cars = bands.green + bands.yellow + bands.red;
  return (
    <Box>
      <Text bold>Fleet </Text>
      <Text>{cars} cars  </Text>
      <Text color="green">
        {bandIcon.green} {bands.green} &gt;50%
      </Text>
      <Text>  </Text>
      <Text color="yellow">
        {bandIcon.yellow} {bands.yellow} 20–50%
      </Text>
      <Text>  </Text>
      <Text color="red">
        {bandIcon.red} {bands.red} &lt;20%
      </Text>
      <Text>  </Text>
      {criticalCount > 0 ? (
        <Text color="red" bold inverse>
          {' '}⚠ {criticalCount} critical (&lt;15%){' '}
        </Text>
      ) : (
        <Text dimColor>no critical cars</Text>
      )}
    </Box>
  );
}
