import { describe } from 'vitest';
import { createMemoryReservations } from '../../src/adapters/memory/memory-reservations.js';
import { reservationsContract } from './reservations.contract.js';

describe('Reservations contract [memory]', () => {
  reservationsContract(async () => {
    const primary = createMemoryReservations({ origin: 'coord-a' });
    // One process, one state: the "second instance" is the same object, as it would share one Redis.
    return { primary, secondary: primary, origins: { primary: 'coord-a', secondary: 'coord-a' }, close: async () => {} };
  });
});
