import { Flags } from '@oclif/core';
import { issueCarTokenFor, type IssuedCarToken } from '../../app/car-tokens.js';
import { BaseCommand } from '../../cli/base-command.js';

export default class TokenIssue extends BaseCommand<typeof TokenIssue> {
  static override summary = 'Issue a per-car API token (a car principal: streams and books for that car only).';
  static override description = [
    'The token is car.<car id>.<expiry>.<HMAC-SHA256 of the server secret>: servers verify it without a lookup, so nothing is stored.',
    'It is signed with GREENLANE_TOKEN_SECRET (the same value the ingestion servers use); embedded mode uses the secret in the data dir.',
    'Rotate the secret to revoke every car token at once. See docs/SECURITY.md.',
  ].join('\n');
  static override examples = ['<%= config.bin %> token issue --car CAR-001', '<%= config.bin %> token issue --car CAR-001 --ttl 30d --json'];
  static override flags = {
    car: Flags.string({ summary: 'The car id the token speaks for (its telemetry car_id).', required: true }),
    ttl: Flags.string({ summary: 'Lifetime: 30d, 12h, 90m, 3600s, or never.', default: '30d' }),
    'data-dir': Flags.string({ summary: 'Where the embedded token secret lives.', env: 'GREENLANE_DATA_DIR' }),
  };

  async run(): Promise<IssuedCarToken> {
    const issued = issueCarTokenFor(this.cfg, this.flags.car, this.flags.ttl);
    this.say(issued.token);
    // The note goes to stderr so `TOKEN=$(greenlane token issue --car X)` captures the token alone.
    if (!this.jsonEnabled()) process.stderr.write(`car ${issued.carId}, ${issued.expiresAt ? `expires ${issued.expiresAt}` : 'no expiry'}; present it as x-api-token (GREENLANE_API_TOKEN)\n`);
    return issued;
  }
}
