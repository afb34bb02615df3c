import Config from './config.js';
import Doctor from './doctor.js';

/** Explicit command registry (oclif "explicit" strategy): id → class. Keep sorted. */
export const COMMANDS = {
  config: Config,
  doctor: Doctor,
};
