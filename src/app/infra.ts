/**
 * The Docker Compose stack of engines (Redpanda, Redis, TimescaleDB; Prometheus and Grafana) as the
 * `greenlane infra` commands and `greenlane up --infra docker` use it. Commands reach the Docker
 * adapter only through here.
 */
import { composeUp, waitHealthy } from '../adapters/docker/compose.js';

export { composeDown, composeLogs, composeStatus, composeUp, detectCompose, isReady, type ServiceStatus } from '../adapters/docker/compose.js';

/** Where the compose stack publishes the engines (deploy/docker-compose.yml). */
export const DOCKER_ENGINE_ENV = {
  GREENLANE_KAFKA_BROKERS: '127.0.0.1:19092',
  GREENLANE_REDIS_URL: 'redis://127.0.0.1:6379',
  GREENLANE_DATABASE_URL: 'postgres://greenlane:greenlane_password@127.0.0.1:5432/greenlane',
} as const;

/** Starts the compose stack, waits until it is healthy, and points this process's unset engine settings at it. */
export async function startDockerEngines(env: NodeJS.ProcessEnv = process.env, healthyWithinMs = 120_000): Promise<void> {
  await composeUp({});
  await waitHealthy(healthyWithinMs);
  for (const [k, v] of Object.entries(DOCKER_ENGINE_ENV)) env[k] ??= v;
}
