import { Kafka, logLevel } from './kafkajs.js';

/** Deletes a namespace's topics, those named `N.<topic>` (a throwaway namespace's cleanup). */
export async function deleteNamespaceTopics(brokers: string[], namespace: string): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'greenlane-cleanup', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${namespace}.`));
  if (topics.length) await admin.deleteTopics({ topics });
  await admin.disconnect();
}
