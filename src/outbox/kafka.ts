import { Kafka, logLevel, type Admin, type KafkaConfig } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/config';

/** kafkajs logs through pino, at warn and above, so a broker restart is not a wall of errors. */
export function createKafka(
  cfg: Config['kafka'],
  logger: Logger,
  clientId = cfg.clientId,
  overrides: Partial<Pick<KafkaConfig, 'retry' | 'connectionTimeout' | 'requestTimeout'>> = {},
): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: cfg.brokers,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    // kafkajs hands each entry as { namespace, level, label, log: { message, ...extra } }.
    logCreator: () => ({ namespace, level, log: entry }) => {
      const { message, ...extra } = { ...entry, namespace };
      if (level <= logLevel.ERROR) log.warn(extra, message);
      else log.debug(extra, message);
    },
    ...overrides,
  });
}

/** A readiness probe that reuses one admin connection and reconnects after a failure. */
export function kafkaReadiness(kafka: Kafka): { check: () => Promise<void>; close: () => Promise<void> } {
  let admin: Admin | null = null;
  return {
    async check() {
      try {
        if (!admin) {
          admin = kafka.admin({ retry: { retries: 0 } });
          await admin.connect();
        }
        await admin.describeCluster();
      } catch (err) {
        const a = admin;
        admin = null;
        await a?.disconnect().catch(() => {});
        throw err;
      }
    },
    async close() {
      await admin?.disconnect().catch(() => {});
    },
  };
}

/**
 * Creates the topic if it does not exist (a no-op otherwise), so consumers can subscribe
 * before the first message and partitions are chosen here rather than by broker defaults.
 */
export async function ensureTopic(kafka: Kafka, topic: string, partitions = 3): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * `ensureTopic` until it succeeds (Kafka may be down when the worker starts; the relay
 * copes with that, and the topic must still exist before a consumer's first subscribe),
 * backing off up to `maxDelayMs`; stops when the signal aborts.
 */
export async function ensureTopicEventually(
  kafka: Kafka,
  topic: string,
  partitions: number,
  o: { logger: Logger; signal: AbortSignal; maxDelayMs?: number },
): Promise<boolean> {
  let delay = 250;
  while (!o.signal.aborted) {
    try {
      await ensureTopic(kafka, topic, partitions);
      o.logger.info({ topic, partitions }, 'kafka topic ensured');
      return true;
    } catch (err) {
      o.logger.warn({ err, topic, retryInMs: delay }, 'could not ensure the kafka topic; retrying');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        o.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      delay = Math.min(delay * 2, o.maxDelayMs ?? 10_000);
    }
  }
  return false;
}
