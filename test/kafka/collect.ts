import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IHeaders, Kafka } from 'kafkajs';

export type Received = { key: string; value: string; headers: Record<string, string>; partition: number; at: number };

/** Reads a topic from the beginning in a group of its own, keeping every message seen. */
export async function collectTopic(kafka: Kafka, topic: string) {
  const received: Received[] = [];
  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      received.push({
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
        headers: headersToStrings(message.headers),
        partition,
        at: Date.now(),
      });
    },
  });
  return {
    received,
    async waitFor(pred: (r: Received[]) => boolean, timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (pred(received)) return true;
        await sleep(25);
      }
      return pred(received);
    },
    stop: () => consumer.disconnect(),
  };
}

function headersToStrings(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = String(v);
  return out;
}

/** Polls until pred() is true or the deadline passes. */
export async function eventually(pred: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return true;
    await sleep(stepMs);
  }
  return pred();
}
