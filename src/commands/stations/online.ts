import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { clientFlags } from '../../cli/flags.js';
import type { StationAvailabilityReplyMsg } from '../../grpc/proto.js';
import { describeAvailability, setStationAvailability } from '../../app/station-availability.js';

export default class StationsOnline extends BaseCommand<typeof StationsOnline> {
  static override summary = 'Bring an offline station back: its configured ports return and queued cars are promoted into them.';
  static override description = 'Asks the running server (SetStationAvailability RPC; --server, --token) in both modes: only the coordinator can re-plan bookings. Needs an operator token (the embedded dev token is one); any other token exits 3.';
  static override examples = ['<%= config.bin %> stations online ST-001', '<%= config.bin %> stations online ST-001 --json'];
  static override args = { id: Args.string({ description: 'Station id (as `greenlane stations list` shows it).', required: true }) };
  static override flags = {
    ...clientFlags,
    'data-dir': Flags.string({ summary: 'Where the embedded dev token lives.', env: 'GREENLANE_DATA_DIR' }),
  };

  async run(): Promise<StationAvailabilityReplyMsg> {
    const { args } = await this.parse(StationsOnline);
    const res = await setStationAvailability(this.cfg, { stationId: args.id, online: true, token: this.flags.token });
    this.say(describeAvailability(res));
    return res;
  }
}
