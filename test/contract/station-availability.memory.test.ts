import { describe } from 'vitest';
import { createMemoryReservations } from '../../src/adapters/memory/memory-reservations.js';
import { stationAvailabilityContract } from './station-availability.contract.js';

describe('station offline / online (operator action) [memory]', () => {
  stationAvailabilityContract(async () => ({ reservations: createMemoryReservations(), close: async () => {} }));
});
