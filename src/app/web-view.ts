import type { LoadedConfig } from '../config/load.js';
import { resolveCredentials } from '../config/token.js';
import { createFleetClient } from '../grpc/client.js';
import type { ActionResult, OperatorDesk } from '../tui/sources/types.js';
import { tlsFromConfig } from '../grpc/tls.js';
import type { Logger } from '../observability/logger.js';
import { assetPath } from '../util/assets.js';
import { operatorAuthenticator } from '../web/auth.js';
import { startWebFeed } from '../web/feed.js';
import { WebHub } from '../web/hub.js';
import { startWebServer, type WebServer } from '../web/server.js';
import { checkTilesUrl } from '../web/tiles.js';
import { createOperatorDesk } from './tail-desk.js';
import { openTailSources, type TailSourceKind } from './tail-sources.js';

export const DEFAULT_WEB_PORT = 8080;
export { checkTilesUrl };
/** The built page (`npm run build:web`); in the single executable, embedded assets written out once per build (src/util/assets.ts). */
const WEB_ASSETS = 'dist/web/public';

export interface WebViewOptions {
  logger: Logger;
  port: number;
  host?: string;
  /** The gRPC address to watch and act on (embedded `up`: the port it actually listens on). */
  server?: string;
  /** The grid's base URL for the price curve (embedded `up`: the port it actually listens on). */
  gridUrl?: string;
  source?: TailSourceKind;
  /** Token the hub presents to watch the stream (default: GREENLANE_API_TOKEN, else the dev token). */
  token?: string;
  assetsDir?: string;
  /** A basemap tile URL template (`--tiles`). */
  tiles?: string;
}

export interface WebView extends WebServer {
  stop(): Promise<void>;
}

/**
 * The web view: the tail's sources feed the hub, which serves `/ws` and the built page. Browsers
 * authenticate as operators with the server's own credentials; a cancel presents the browser's
 * token to CancelBooking, so the server decides with the same rules as for any client.
 */
export async function startWebView(loaded: LoadedConfig, opts: WebViewOptions): Promise<WebView> {
  const server = opts.server ?? loaded.config.server;
  const gridUrl = opts.gridUrl ?? loaded.config.gridUrl;
  const at: LoadedConfig = opts.server ? { ...loaded, config: { ...loaded.config, server, gridUrl }, sources: { ...loaded.sources, server: 'flag' } } : { ...loaded, config: { ...loaded.config, gridUrl } };
  const { config } = at;
  const sources = await openTailSources(at, { logger: opts.logger, source: opts.source, token: opts.token, fromBeginning: false, rate: 0, cars: 0 });
  const tls = tlsFromConfig(config);
  const tiles = opts.tiles ? checkTilesUrl(opts.tiles) : undefined;
  /**
   * One short-lived client per action, presenting the browser's token: the server decides with its
   * usual rules, and the console's desk (src/app/tail-desk.ts) words the answer as the TUI does.
   */
  const act = async (token: string, run: (desk: OperatorDesk) => Promise<ActionResult>): Promise<string> => {
    const client = createFleetClient(server, token, { tls });
    try {
      const r = await run(createOperatorDesk(server, () => client));
      if (!r.ok) throw new Error(r.text);
      return r.text;
    } finally {
      client.close();
    }
  };
  const hub = new WebHub({
    tiles: tiles?.template,
    authenticate: operatorAuthenticator(resolveCredentials(config, loaded.mode)),
    sourceLabel: sources.events.label,
    async cancelBooking(token, req) {
      const client = createFleetClient(server, token, { tls });
      try {
        const res = await client.cancelBooking({ car_id: req.carId ?? '', booking_id: req.bookingId ?? '' });
        return `${res.status ?? 'cancelled'}${res.message ? `: ${res.message}` : ''}`;
      } finally {
        client.close();
      }
    },
    async requestBooking(token, req) {
      return act(token, (desk) => desk.requestBooking(req.carId, req.stationId));
    },
    async setStationOnline(token, req) {
      return act(token, (desk) => desk.setStationOnline(req.stationId, req.online));
    },
  });
  const stopFeed = await startWebFeed(sources, hub);
  const web = await startWebServer({ hub, assetsDir: opts.assetsDir ?? assetPath(WEB_ASSETS), host: opts.host ?? config.bind, port: opts.port, tilesOrigin: tiles?.origin }).catch(async (err) => {
    await stopFeed();
    throw err;
  });
  opts.logger.info({ url: web.url }, 'web view listening');
  return {
    ...web,
    url: web.url,
    port: web.port,
    async stop() {
      await web.close();
      await stopFeed();
    },
  };
}
