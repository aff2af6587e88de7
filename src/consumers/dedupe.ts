import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Sql, Tx } from '../db/client';
import { bookingMessageSchema, messageReservationId, type BookingMessage } from '../outbox/message';

export type Handler = (msg: BookingMessage, tx: Tx) => Promise<string>;

export type DedupingConsumerOptions = {
  kafka: Kafka;
  sql: Sql;
  logger: Logger;
  /** Consumer group id, and the name its records carry in consumer_messages. */
  name: string;
  topic: string;
  /** Returns what it did (recorded with the message); runs in the transaction of the record. */
  handle: Handler;
  /** Hook for metrics: one call per message, duplicate = already handled before. */
  onMessage?: (type: string, duplicate: boolean) => void;
  /** Hook for metrics: messages behind the high watermark after each batch, per partition. */
  onLag?: (partition: number, lag: number) => void;
};

/**
 * A consumer-group member that handles each booking message once: the handler's writes and
 * the (consumer, message id) record commit in one PostgreSQL transaction, and a redelivered
 * message (at-least-once, a relay retry) finds its record and is skipped. The offset is
 * committed only after that transaction, so a crash redelivers rather than loses.
 */
export class DedupingConsumer {
  private consumer: Consumer | null = null;

  constructor(private readonly o: DedupingConsumerOptions) {}

  async start(): Promise<void> {
    const { kafka, topic, name, logger } = this.o;
    const consumer = kafka.consumer({ groupId: name, allowAutoTopicCreation: false });
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.o.onLag?.(payload.partition, Number(payload.offsetLag));
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const parsed = parse(message.value);
        if (!parsed) {
          // A malformed message must not block its partition forever: log it and move on.
          logger.error({ topic, partition, offset: message.offset }, 'skipping malformed booking message');
          return;
        }
        const duplicate = await this.o.sql.begin(async (tx) => {
          const [mine] = await tx`
            insert into consumer_messages (consumer, message_id, type, reservation_id, topic, partition, kafka_offset, outcome)
            values (${name}, ${parsed.id}, ${parsed.type}, ${messageReservationId(parsed)}, ${topic}, ${partition}, ${message.offset}, '')
            on conflict (consumer, message_id) do nothing
            returning message_id`;
          if (!mine) return true;
          const outcome = await this.o.handle(parsed, tx);
          await tx`update consumer_messages set outcome = ${outcome}
            where consumer = ${name} and message_id = ${parsed.id}`;
          return false;
        });
        this.o.onMessage?.(parsed.type, duplicate);
        if (duplicate) logger.debug({ messageId: parsed.id }, 'duplicate booking message skipped');
      },
    });
    this.consumer = consumer;
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = null;
    await c?.disconnect();
  }
}

function parse(value: Buffer | null): BookingMessage | null {
  if (!value) return null;
  try {
    const r = bookingMessageSchema.safeParse(JSON.parse(value.toString('utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
