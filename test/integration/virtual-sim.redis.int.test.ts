import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { DEFAULT_STATIONS_FILE } from '../../src/app/stack.js';
import { runVirtualSim } from '../../src/app/virtual-sim.js';
import { readStationsFile } from '../../src/config/stations-file.js';
import { describeWithEngine, engineProbe, infra } from '../helpers/infra.js';

await describeWithEngine('redis', engineProbe('redis'), 'virtual simulation on Redis', () => {
  it('the Lua reservations give the same report as the memory adapter, and leave no keys', async () => {
    const stations = await readStationsFile(DEFAULT_STATIONS_FILE());
    const memory = await runVirtualSim({ scenario: 'herd', seed: 3, cars: 60, stations });
    const redis = await runVirtualSim({ scenario: 'herd', seed: 3, cars: 60, stations, redisUrl: infra.redisUrl });
    expect(JSON.stringify(redis)).toBe(JSON.stringify(memory));
    const raw = new Redis(infra.redisUrl);
    const left = await raw.keys(`vsim-${process.pid}-*`);
    raw.disconnect();
    expect(left).toEqual([]);
  });
});
