import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ORIGINAL = join(root, 'test/fixtures/original-fleet.proto');
const CURRENT = join(root, 'proto/fleet.proto');

interface Field {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}
interface Method {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestType: { type: { name: string } };
  responseType: { type: { name: string } };
}

const load = (path: string) => protoLoader.loadSync(path, { keepCase: true }) as unknown as Record<string, Record<string, unknown>>;
const isService = (def: Record<string, unknown>) => typeof def.format !== 'string';

/**
 * Everything of `originalPath` must still exist, unchanged, in `candidatePath`: messages and their
 * fields (name, number, type, label), enum values, services, RPCs (types and streaming flags).
 * Additions are allowed. Returns the differences, empty when compatible.
 */
function compatibilityProblems(originalPath: string, candidatePath: string): string[] {
  const original = load(originalPath);
  const candidate = load(candidatePath);
  const problems: string[] = [];
  for (const [name, def] of Object.entries(original)) {
    const next = candidate[name];
    if (!next) {
      problems.push(`${name} disappeared`);
      continue;
    }
    if (isService(def)) {
      for (const [rpc, m] of Object.entries(def as unknown as Record<string, Method>)) {
        const n = (next as unknown as Record<string, Method | undefined>)[rpc];
        if (!n) problems.push(`rpc ${name}.${rpc} disappeared`);
        else {
          const shape = (x: Method) => `${x.path} ${x.requestStream ? 'stream ' : ''}${x.requestType.type.name} -> ${x.responseStream ? 'stream ' : ''}${x.responseType.type.name}`;
          if (shape(m) !== shape(n)) problems.push(`rpc ${name}.${rpc} changed: ${shape(m)} became ${shape(n)}`);
        }
      }
      continue;
    }
    if (def.format !== next.format) problems.push(`${name} changed kind or syntax: ${def.format} became ${next.format}`);
    const type = def.type as { field?: Field[]; value?: { name: string; number: number }[] };
    const nextType = next.type as typeof type;
    for (const f of type.field ?? []) {
      const g = nextType.field?.find((x) => x.name === f.name);
      const shape = (x: Field) => `${x.number} ${x.label} ${x.type} ${x.typeName}`;
      if (!g) problems.push(`field ${name}.${f.name} disappeared`);
      else if (shape(f) !== shape(g)) problems.push(`field ${name}.${f.name} changed: ${shape(f)} became ${shape(g)}`);
    }
    for (const v of type.value ?? []) {
      const w = nextType.value?.find((x) => x.name === v.name);
      if (!w) problems.push(`enum value ${name}.${v.name} disappeared`);
      else if (w.number !== v.number) problems.push(`enum value ${name}.${v.name} changed: ${v.number} became ${w.number}`);
    }
  }
  return problems;
}

describe('proto compatibility with the original contract', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'greenlane-proto-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('proto/fleet.proto keeps every original message, field, enum value, service and RPC', () => {
    expect(compatibilityProblems(ORIGINAL, CURRENT)).toEqual([]);
  });

  it('the fixture is the original contract (service, streaming RPC, field numbers)', () => {
    const def = load(ORIGINAL);
    expect(Object.keys(def).sort()).toEqual(
      ['fleet.BookingEvent', 'fleet.BookingRequest', 'fleet.BookingResponse', 'fleet.BookingStatus', 'fleet.CarStatus', 'fleet.FleetService', 'fleet.TelemetryEvent'].sort(),
    );
    const fields = (def['fleet.CarStatus'].type as { field: Field[] }).field.map((f) => `${f.number}:${f.name}:${f.type}`);
    expect(fields).toEqual(['1:car_id:TYPE_STRING', '2:latitude:TYPE_DOUBLE', '3:longitude:TYPE_DOUBLE', '4:battery_level:TYPE_DOUBLE', '5:velocity:TYPE_DOUBLE', '6:timestamp:TYPE_INT64']);
  });

  it('reports an edited field number', () => {
    const mutated = join(tmp, 'number.proto');
    writeFileSync(mutated, readFileSync(ORIGINAL, 'utf8').replace('double battery_level = 4;\n  double velocity = 5;', 'double battery_level = 9;\n  double velocity = 5;'));
    expect(compatibilityProblems(ORIGINAL, mutated)).toEqual(['field fleet.CarStatus.battery_level changed: 4 LABEL_OPTIONAL TYPE_DOUBLE  became 9 LABEL_OPTIONAL TYPE_DOUBLE ']);
  });

  it('reports a changed type, a removed enum value and a changed streaming flag', () => {
    const mutated = join(tmp, 'several.proto');
    const text = readFileSync(ORIGINAL, 'utf8')
      .replace('int64 expected_arrival = 3;', 'int32 expected_arrival = 3;')
      .replace('  BOOKING_EXPIRED = 3;\n', '')
      .replace('rpc StreamTelemetry(stream CarStatus)', 'rpc StreamTelemetry(CarStatus)');
    writeFileSync(mutated, text);
    const problems = compatibilityProblems(ORIGINAL, mutated);
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/BookingRequest\.expected_arrival changed/);
    expect(problems.join('\n')).toMatch(/BOOKING_EXPIRED disappeared/);
    expect(problems.join('\n')).toMatch(/StreamTelemetry changed/);
  });
});
