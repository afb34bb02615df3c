import { Box, Text } from 'ink';

/** Every key of the console, in the order an operator meets them. */
export const CONSOLE_KEYS: [string, string][] = [
  ['Tab', 'switch between the stations and the cars list'],
  ['↑ ↓ / j k', 'select a station or a car (its number / ◉ on the map)'],
  ['Enter', 'open / close the selection\'s details'],
  ['Esc', 'close details, answers and prompts'],
  ['x', 'cancel the selected car\'s booking (asks to confirm)'],
  ['b', 'request a booking for the selected car (asks to confirm)'],
  ['o', 'take the selected station offline (its bookings re-planned) or back online (asks to confirm)'],
  ['/', 'search cars and stations (also filters the feed by car id)'],
  ['n', 'nearest stations to a position (lat,lon) or a car id'],
  ['c', 'critical only: cars list and feed (toggle)'],
  ['p', 'pause / resume the feed (counts keep updating)'],
  ['PgUp PgDn', 'scroll the feed back / forward'],
  ['f', 'follow the feed again'],
  ['?', 'this help'],
  ['q, Ctrl-C', 'quit and print the session summary'],
];

export function ConsoleHelp({ canAct }: { canAct: boolean }) {
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="cyan" paddingX={1} flexGrow={1}>
      <Text bold>Keys</Text>
      {CONSOLE_KEYS.map(([k, what]) => (
        <Text key={k} wrap="truncate">
          <Text bold color="cyan">
            {k.padEnd(11)}
          </Text>
          {what}
        </Text>
      ))}
      <Text dimColor wrap="truncate">Colours: 🟢 &gt;50% 🟡 20–50% 🔴 &lt;20% · ⚠ critical below 15% · ◆n station n on the map</Text>
      <Text dimColor wrap="truncate">{canAct ? 'Actions go through the server; it refuses them without an operator token.' : 'Actions need the server (--server).'}</Text>
    </Box>
  );
}

/** The always-visible key reminder, with the active filters. */
export function ConsoleKeyBar({ criticalOnly, search, detail }: { criticalOnly: boolean; search: string; detail: boolean }) {
  return (
    <Text dimColor wrap="truncate">
      ? help · q quit · ↑↓ select · Tab · Enter {detail ? 'close' : 'details'} · x cancel · b book · / search{search ? ` [${search}]` : ''} · n nearest · o offline · c critical{criticalOnly ? ' [on]' : ''} · p pause · PgUp/PgDn · f follow
    </Text>
  );
}
