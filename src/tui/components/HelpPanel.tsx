import { Box, Text } from 'ink';

const keys: [string, string][] = [
  ['n', 'nearest stations to a position (lat,lon) or a car id'],
  ['c', 'show critical events only (toggle)'],
  ['/', 'filter the feed by car id'],
  ['p', 'pause / resume the feed (counts keep updating)'],
  ['?', 'this help'],
  ['q, Ctrl-C', 'quit and print the session summary'],
];

export function HelpPanel() {
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text bold>Keys</Text>
      {keys.map(([k, what]) => (
        <Text key={k}>
          <Text bold color="cyan">
            {k.padEnd(10)}
          </Text>
          {what}
        </Text>
      ))}
      <Text dimColor>Colours: 🟢 &gt;50% 🟡 20–50% 🔴 &lt;20% · ⚠ critical below 15% · ◆ station on the map</Text>
    </Box>
  );
}

/** The always-visible key reminder, with the active filters. */
export function KeyBar({ criticalOnly, carFilter }: { criticalOnly: boolean; carFilter: string }) {
  return (
    <Text dimColor wrap="truncate">
      n nearest · c critical{criticalOnly ? ' [on]' : ''} · / filter{carFilter ? ` [${carFilter}]` : ''} · p pause · ? help · q quit
    </Text>
  );
}
