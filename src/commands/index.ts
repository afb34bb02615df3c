import Config from './config.js';

/** Explicit command registry (oclif "explicit" strategy): id → class. Keep sorted. */
export const COMMANDS = {
  config: Config,
};
