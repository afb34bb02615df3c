import { Box, Text } from 'ink';

export type PromptKind = 'nearest' | 'filter';

const prompts: Record<PromptKind, { title: string; hint: string }> = {
  nearest: { title: 'Nearest stations to', hint: 'lat,lon or car id · Enter to ask · Esc to cancel' },
  filter: { title: 'Filter feed by car id', hint: 'part of a car id · empty clears · Enter · Esc' },
};

/** The one-line input used by `n` (nearest-station query) and `/` (car filter). */
export function QueryBox({ kind, value }: { kind: PromptKind; value: string }) {
  const p = prompts[kind];
  return (
    <Box borderStyle="single" borderColor="cyan" paddingX={1}>
      <Text>
        <Text bold color="cyan">
          {p.title}:{' '}
        </Text>
        <Text>{value}</Text>
        <Text inverse> </Text>
        <Text dimColor>   {p.hint}</Text>
      </Text>
    </Box>
  );
}
