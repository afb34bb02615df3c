import { describe } from 'vitest';
import { createMemoryFleetState } from '../../src/adapters/memory/memory-fleet-state.js';
import { fleetStateContract } from './fleet-state.contract.js';

describe('FleetState contract [memory]', () => {
  fleetStateContract(async () => createMemoryFleetState());
});
