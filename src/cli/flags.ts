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
};
