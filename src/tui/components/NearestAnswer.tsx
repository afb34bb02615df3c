import { Box, Text } from 'ink';
import type { NearestAnswer as Answer } from '../store/nearest.js';

/** Top stations for a nearest query: distance, estimated drive time, free ports and price. */
export function NearestAnswer({ answer }: { answer: Answer }) {
  if (!answer.ok)
    return (
      <Box paddingX={1}>
        <Text color={answer.pending ? undefined : 'yellow'} dimColor={answer.pending}>
          Nearest: {answer.error}
        </Text>
      </Box>
    );
  const how = answer.source === 'server' ? 'server search; free ports now' : 'straight line; drive time estimated';
  return (
    <Box flexDirection="column" borderStyle="single" borderColor="magenta" paddingX={1}>
      <Text bold>
        Nearest stations to {answer.label} <Text dimColor>({how} · Esc closes)</Text>
      </Text>
      {answer.note && (
        <Text color="yellow" wrap="truncate">
          {answer.note}
        </Text>
      )}
      {answer.rows.map((r, i) => (
        <Text key={r.station.id} wrap="truncate">
          {`${i + 1}. ${r.station.name}`.padEnd(30)} {`${r.distanceKm.toFixed(2)} km`.padStart(9)} {`~${Math.max(1, Math.round(r.driveMinutes))} min`.padStart(8)}
          {'  '}
          <Text color={r.freePorts === 0 ? 'red' : 'green'}>{r.freePorts === undefined ? '? free' : `${r.freePorts} free`}</Text>
          {'  '}
          {r.price !== undefined ? `$${r.price.toFixed(2)}/kWh` : '$–'}
        </Text>
      ))}
    </Box>
  );
}
