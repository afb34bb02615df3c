import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { COMMAND_LOADERS } from '../../src/commands/lazy.js';

describe('the lazy command registry', () => {
  it('names exactly the commands of the explicit registry', () => {
    expect(Object.keys(COMMAND_LOADERS).sort()).toEqual(Object.keys(COMMANDS).sort());
  });

  it.each(Object.entries(COMMAND_LOADERS))('%s loads the class the explicit registry names', async (id, load) => {
    expect((await load()).default).toBe((COMMANDS as Record<string, unknown>)[id]);
  });
});
