import { Text } from 'ink';
import type { SourceStatus } from '../sources/types.js';

const stateStyle: Record<SourceStatus['state'], { color: string; icon: string }> = {
  connecting: { color: 'yellow', icon: '…' },
  connected: { color: 'green', icon: '●' },
  reconnecting: { color: 'red', icon: '⟳' },
  stopped: { color: 'gray', icon: '■' },
};

export function connectionText(s: SourceStatus): string {
  if (s.state === 'reconnecting') {
    const retry = s.retryInMs !== undefined ? ` in ${(s.retryInMs / 1000).toFixed(1)} s` : '';
    return `reconnecting${retry} (attempt ${s.attempt ?? 1})${s.error ? `: ${s.error}` : ''}`;
  }
  return s.state;
}

export interface HeaderProps {
  label: string;
  status: SourceStatus;
  rate: number;
  total: number;
  lag?: number;
  showLag: boolean;
  paused: boolean;
  pausedSkipped: number;
}

/** Source, connection state, events/s, total and (Kafka) consumer lag. */
export function Header(p: HeaderProps) {
  const st = stateStyle[p.status.state];
  return (
    <Text wrap="truncate">
      <Text bold color="cyan">GreenLane </Text>
      <Text dimColor>│ </Text>
      <Text>{p.label}</Text>
      <Text dimColor> │ </Text>
      {/* The connection state before the counters, so a narrow terminal cuts the counters, not it. */}
      <Text color={st.color}>
        {st.icon} {connectionText(p.status)}
      </Text>
      <Text dimColor> │ </Text>
      <Text bold>{p.rate.toFixed(0)}</Text>
      <Text> ev/s </Text>
      <Text dimColor>│ </Text>
      <Text>total </Text>
      <Text bold>{p.total}</Text>
      {p.showLag && (
        <>
          <Text dimColor> │ </Text>
          <Text>lag </Text>
          <Text bold color={p.lag && p.lag > 1000 ? 'yellow' : undefined}>
            {p.lag === undefined ? '?' : p.lag}
          </Text>
        </>
      )}
      {p.paused && (
        <Text color="yellow" bold>
          {'  '}⏸ PAUSED ({p.pausedSkipped} hidden)
        </Text>
      )}
    </Text>
  );
}
