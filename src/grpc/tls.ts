import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../errors.js';

/** PEM file paths (config keys tlsCert, tlsKey, tlsCa; flags --tls-cert, --tls-key, --tls-ca). */
export interface TlsFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

function readPem(path: string, key: 'tlsCert' | 'tlsKey' | 'tlsCa'): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const flag = '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    throw new ConfigError(`Cannot read ${flag} ${path}: ${(err as Error).message}`, [`Fix ${flag} (GREENLANE_${key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()}).`]);
  }
}

/** Whether the server side speaks TLS (a certificate and key are configured). */
export const serverTlsEnabled = (tls?: TlsFiles): boolean => Boolean(tls?.cert || tls?.key);

/**
 * TLS with --tls-cert/--tls-key; with --tls-ca too, every client must present a certificate signed
 * by that CA. Without a certificate: insecure (the loopback default).
 */
export function serverCredentials(tls?: TlsFiles): grpc.ServerCredentials {
  if (!serverTlsEnabled(tls)) {
    if (tls?.ca) throw new ConfigError('--tls-ca on the server requires client certificates, which needs TLS: set --tls-cert and --tls-key too.');
    return grpc.ServerCredentials.createInsecure();
  }
  if (!tls!.cert || !tls!.key) throw new ConfigError('TLS needs both --tls-cert and --tls-key (GREENLANE_TLS_CERT, GREENLANE_TLS_KEY).');
  const pair = { cert_chain: readPem(tls!.cert, 'tlsCert'), private_key: readPem(tls!.key, 'tlsKey') };
  const ca = tls!.ca ? readPem(tls!.ca, 'tlsCa') : null;
  return grpc.ServerCredentials.createSsl(ca, [pair], Boolean(ca));
}

/**
 * Client side: TLS when a CA to trust (--tls-ca) or a client certificate (--tls-cert/--tls-key) is
 * given; the system roots are trusted when no CA is. Otherwise insecure.
 */
export function channelCredentials(tls?: TlsFiles): grpc.ChannelCredentials {
  if (!tls?.ca && !tls?.cert && !tls?.key) return grpc.credentials.createInsecure();
  if (Boolean(tls.cert) !== Boolean(tls.key)) throw new ConfigError('A client certificate needs both --tls-cert and --tls-key (GREENLANE_TLS_CERT, GREENLANE_TLS_KEY).');
  return grpc.credentials.createSsl(tls.ca ? readPem(tls.ca, 'tlsCa') : null, tls.key ? readPem(tls.key, 'tlsKey') : null, tls.cert ? readPem(tls.cert, 'tlsCert') : null);
}

/** The TLS files of a loaded configuration. */
export function tlsFromConfig(config: { tlsCert?: string; tlsKey?: string; tlsCa?: string }): TlsFiles {
  return { cert: config.tlsCert, key: config.tlsKey, ca: config.tlsCa };
}
