import { Flags } from '@oclif/core';

/** Engine connection flags: shared by every command that may talk to Kafka, Redis or PostgreSQL. */
export const engineFlags = {
  'kafka-brokers': Flags.string({ summary: 'Kafka brokers, comma-separated (external mode).', env: 'GREENLANE_KAFKA_BROKERS', helpGroup: 'ENGINE' }),
  'redis-url': Flags.string({ summary: 'Redis URL (external mode).', env: 'GREENLANE_REDIS_URL', helpGroup: 'ENGINE' }),
  'database-url': Flags.string({ summary: 'PostgreSQL URL (external mode).', env: 'GREENLANE_DATABASE_URL', helpGroup: 'ENGINE' }),
  namespace: Flags.string({ summary: 'Prefix isolating Redis keys, topics and schema.', env: 'GREENLANE_NAMESPACE', helpGroup: 'ENGINE' }),
};

/** How clients reach a running server. */
export const clientFlags = {
  server: Flags.string({ summary: 'gRPC address of the ingestion server.', env: 'GREENLANE_SERVER', helpGroup: 'CLIENT' }),
  token: Flags.string({ summary: 'API token (default: the embedded dev token).', env: 'GREENLANE_API_TOKEN', helpGroup: 'CLIENT' }),
  'tls-ca': Flags.string({ summary: 'Speak TLS to the server and trust this CA (PEM).', env: 'GREENLANE_TLS_CA', helpGroup: 'CLIENT' }),
  'tls-cert': Flags.string({ summary: 'Client certificate (PEM) for a server that requires one; speaks TLS.', env: 'GREENLANE_TLS_CERT', helpGroup: 'CLIENT', dependsOn: ['tls-key'] }),
  'tls-key': Flags.string({ summary: 'Private key (PEM) of --tls-cert.', env: 'GREENLANE_TLS_KEY', helpGroup: 'CLIENT', dependsOn: ['tls-cert'] }),
};

/** Where servers listen and how they protect the gRPC port (TLS, optional client certificates). */
export const listenFlags = {
  bind: Flags.string({ summary: 'Address every listener binds (default 127.0.0.1; 0.0.0.0 exposes them: use TLS and tokens).', env: 'GREENLANE_BIND', helpGroup: 'LISTEN' }),
  'tls-cert': Flags.string({ summary: 'Serve gRPC over TLS with this certificate (PEM).', env: 'GREENLANE_TLS_CERT', helpGroup: 'LISTEN', dependsOn: ['tls-key'] }),
  'tls-key': Flags.string({ summary: 'Private key (PEM) of --tls-cert.', env: 'GREENLANE_TLS_KEY', helpGroup: 'LISTEN', dependsOn: ['tls-cert'] }),
  'tls-ca': Flags.string({ summary: 'Require client certificates signed by this CA (PEM); needs --tls-cert.', env: 'GREENLANE_TLS_CA', helpGroup: 'LISTEN' }),
};
