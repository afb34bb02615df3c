import { Text } from 'ink';
import type { CarView } from '../store/types.js';
import { CRITICAL_TEXT } from '../store/format.js';

/** The lowest critical cars, so an operator sees who needs a charger now (one line, cut at the edge). */
export function CriticalAlert({ critical, count }: { critical: CarView[]; count: number }) {
  if (!count) return null;
  const more = count - critical.length;
  return (
    <Text wrap="truncate">
      <Text color="red" bold>
        {CRITICAL_TEXT}{' '}
      </Text>
      <Text color="red">
        {critical.map((c) => `${c.carId} ${c.battery.toFixed(1)}%`).join(' · ')}
        {more > 0 ? ` · +${more} more` : ''}
      </Text>
    </Text>
  );
}
