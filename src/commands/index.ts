import Bookings from './bookings.js';
import Config from './config.js';
import Doctor from './doctor.js';
import Grid from './grid.js';
import InfraDown from './infra/down.js';
import InfraLogs from './infra/logs.js';
import InfraStatus from './infra/status.js';
import InfraUp from './infra/up.js';
import Ingestion from './ingestion.js';
import Price from './price.js';
import Sessions from './sessions.js';
import Sim from './sim.js';
import Smoke from './smoke.js';
import StationsList from './stations/list.js';
import StationsLoad from './stations/load.js';
import StationsNearest from './stations/nearest.js';
import StationsOffline from './stations/offline.js';
import StationsOnline from './stations/online.js';
import StoreInit from './store-init.js';
import Tail from './tail.js';
import TokenIssue from './token/issue.js';
import Up from './up.js';
import Web from './web.js';
import Worker from './worker.js';

/** Explicit command registry (oclif "explicit" strategy): id → class. Keep sorted. */
export const COMMANDS = {
  bookings: Bookings,
  config: Config,
  doctor: Doctor,
  grid: Grid,
  'infra:down': InfraDown,
  'infra:logs': InfraLogs,
  'infra:status': InfraStatus,
  'infra:up': InfraUp,
  ingestion: Ingestion,
  price: Price,
  sessions: Sessions,
  sim: Sim,
  smoke: Smoke,
  'stations:list': StationsList,
  'stations:load': StationsLoad,
  'stations:nearest': StationsNearest,
  'stations:offline': StationsOffline,
  'stations:online': StationsOnline,
  'store:init': StoreInit,
  tail: Tail,
  'token:issue': TokenIssue,
  up: Up,
  web: Web,
  worker: Worker,
};
