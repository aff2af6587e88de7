import { setTimeout as sleep } from 'node:timers/promises';
import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { Sql } from '../db/client';
import { startPublishSpan } from '../telemetry/trace';
import { createKafka } from './kafka';

export type RelayOptions = {
  sql: Sql;
  kafka: Kafka;
  logger: Logger;
  /** Publish only rows of these topics (default: every pending row). Lets tests and benches share a database. */
  topics?: string[];
  /** Most rows claimed and sent in one batch. */
  batchSize?: number;
  /** While rows keep arriving, wait this long before the next claim so they leave together. */
  lingerMs?: number;
  /** Fallback poll when no NOTIFY arrives (a lost LISTEN connection, rows left by a crashed relay). */
  pollMs?: number;
  /** Backoff after a failed batch: doubles from min to max, with jitter. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Hook points for metrics and tracing (another issue); must not throw. */
  onPublished?: (rows: PublishedRow[], sendMs: number) => void;
  onError?: (err: unknown, consecutiveFailures: number) => void;
  /** Runs each send (the Kafka circuit breaker): while it is open, a batch fails at once. */
  guard?: <T>(send: () => Promise<T>) => Promise<T>;
};

/**
 * The relay's Kafka client fails a send within a few seconds while the broker is away
 * (kafkajs's connection retries otherwise stretch to half a minute, holding the batch's
 * transaction open); the relay's own backoff then decides when to try again.
 */
export function createRelayKafka(cfg: Config['kafka'], logger: Logger, clientId = `${cfg.clientId}-relay`): Kafka {
  return createKafka(cfg, logger, clientId, { retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 } });
}

export type PublishedRow = { messageId: string; key: string; topic: string; createdAt: Date };

type OutboxRow = {
  id: bigint;
  message_id: string;
  topic: string;
  key: string;
  type: string;
  value: string;
  headers: Record<string, unknown>;
  created_at: Date;
};

/**
 * Publishes outbox rows to Kafka and marks them sent only after the broker acknowledged
 * them. Each batch is one PostgreSQL transaction that holds its rows with
 * FOR UPDATE SKIP LOCKED while they are sent, so several relays share the outbox without
 * publishing a row twice; a failed send rolls back and the rows stay pending. A crash
 * between the broker's ack and the commit republishes a batch: delivery is at least once
 * and consumers dedupe on the message id.
 *
 * Batching adapts to load: a claim takes up to `batchSize` rows and sends whatever it got
 * at once (a partial claim means the outbox ran dry, so nothing waits for stragglers).
 * Rows committed while a batch was in flight are claimed together next; when they were
 * still arriving, a short linger lets a few more join. An idle relay sleeps on LISTEN.
 */
export class OutboxRelay {
  private readonly o: Required<Omit<RelayOptions, 'topics' | 'onPublished' | 'onError' | 'guard'>> & RelayOptions;
  private producer: Producer | null = null;
  private connecting: Promise<Producer> | null = null;
  private dirty = true;
  private wakeUp: (() => void) | null = null;
  private stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private failures = 0;
  private lastError: unknown = null;

  constructor(opts: RelayOptions) {
    this.o = {
      batchSize: 500,
      lingerMs: 5,
      pollMs: 2_000,
      backoffMinMs: 200,
      backoffMaxMs: 10_000,
      ...opts,
    };
  }

  /** Healthy = the last batch (if any) reached the broker. */
  get healthy(): boolean {
    return this.failures === 0;
  }

  get error(): unknown {
    return this.lastError;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    // postgres.js re-runs onlisten after reconnecting: notifications may have been missed.
    const listener = await this.o.sql.listen('outbox', () => this.wake(), () => this.wake());
    this.unlisten = () => listener.unlisten();
    this.loop = this.run();
  }

  /** Finishes the batch in flight, then disconnects the producer. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake();
    await this.loop;
    this.loop = null;
    await this.unlisten?.().catch(() => {});
    await this.dropProducer();
  }

  private wake(): void {
    this.dirty = true;
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private async run(): Promise<void> {
    const { batchSize, lingerMs, pollMs } = this.o;
    const signal = this.stopping.signal;
    let last = 0;
    while (!signal.aborted) {
      const busy = this.dirty || last === batchSize;
      if (!busy) await this.idle(pollMs);
      if (signal.aborted) break;
      const arriving = this.dirty && last > 0 && last < batchSize;
      this.dirty = false;
      if (arriving && lingerMs > 0) await sleep(lingerMs, undefined, { signal }).catch(() => {});
      try {
        last = await this.publishBatch();
        if (this.failures) this.o.logger.info({ afterFailures: this.failures }, 'outbox relay: kafka reachable again');
        this.failures = 0;
        this.lastError = null;
      } catch (err) {
        last = 0;
        this.failures++;
        this.lastError = err;
        this.o.onError?.(err, this.failures);
        const delay = this.backoff();
        this.o.logger.warn({ err, failures: this.failures, retryInMs: delay }, 'outbox relay: publish failed; rows stay pending');
        // A producer that failed mid-send may hold stale sequence state: start afresh.
        await this.dropProducer();
        await sleep(delay, undefined, { signal }).catch(() => {});
        this.dirty = true;
      }
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeUp = null;
        this.dirty = true;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private backoff(): number {
    const { backoffMinMs, backoffMaxMs } = this.o;
    const base = Math.min(backoffMaxMs, backoffMinMs * 2 ** Math.min(this.failures - 1, 20));
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  /** One transaction: claim, send, mark sent. Returns the number of rows published. */
  private publishBatch(): Promise<number> {
    const { sql, batchSize, topics } = this.o;
    return sql.begin(async (tx) => {
      const rows = await tx<OutboxRow[]>`
        select id, message_id, topic, key, type, payload::text as value, headers, created_at
        from outbox
        where sent_at is null ${topics ? tx`and topic = any(${topics})` : tx``}
        order by id
        limit ${batchSize}
        for update skip locked`;
      if (!rows.length) return 0;
      const started = performance.now();
      const producer = await this.connectedProducer();
      const { topicMessages, spans } = toMessages(rows);
      try {
        const send = () => producer.sendBatch({ acks: -1, compression: CompressionTypes.GZIP, topicMessages });
        await (this.o.guard ? this.o.guard(send) : send());
      } catch (err) {
        for (const end of spans) end(err);
        throw err;
      }
      for (const end of spans) end();
      const sendMs = performance.now() - started;
      await tx`update outbox set sent_at = now() where id = any(${rows.map((r) => r.id.toString())}::bigint[])`;
      if (this.o.onPublished) {
        const published = rows.map((r) => ({ messageId: r.message_id, key: r.key, topic: r.topic, createdAt: r.created_at }));
        try {
          this.o.onPublished(published, sendMs);
        } catch (err) {
          this.o.logger.error({ err }, 'outbox relay: onPublished hook threw');
        }
      }
      return rows.length;
    }) as Promise<number>;
  }

  private connectedProducer(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const p = this.o.kafka.producer({
        idempotent: true,
        // Idempotence keeps order only with bounded in-flight requests; one batch is in flight anyway.
        maxInFlightRequests: 1,
        // Bounded like the client's (see createRelayKafka): the relay's backoff takes over.
        retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
      });
      try {
        await p.connect();
      } catch (err) {
        await p.disconnect().catch(() => {});
        throw err;
      }
      this.producer = p;
      return p;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async dropProducer(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    await p?.disconnect().catch(() => {});
  }
}

/** Kafka messages grouped by topic, each with a publish span under the trace that wrote it. */
function toMessages(rows: OutboxRow[]) {
  const byTopic = new Map<string, Message[]>();
  const spans: ((err?: unknown) => void)[] = [];
  for (const r of rows) {
    const stored: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) if (typeof v === 'string') stored[k] = v;
    const span = startPublishSpan(r.topic, stored, {
      'messaging.system': 'kafka',
      'messaging.message.id': r.message_id,
      'boxoffice.reservation_id': r.key,
    });
    spans.push(span.end);
    const headers = { ...stored, ...span.headers, 'message-id': r.message_id, 'message-type': r.type };
    let list = byTopic.get(r.topic);
    if (!list) byTopic.set(r.topic, (list = []));
    list.push({ key: r.key, value: r.value, headers });
  }
  return { topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })), spans };
}
