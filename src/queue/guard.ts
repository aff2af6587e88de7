import { createHmac } from 'node:crypto';
import { createChallenge, extractParams, verifySolution } from 'altcha-lib/v1';
import type { Payload } from 'altcha-lib/v1/types';
import type { BoxEvent } from '../events/model';
import type { RedisClient } from '../redis/client';
import { queueKeys } from '../redis/keys';
import { runScript } from '../redis/scripts';
import { Errors } from '../shared/errors';
import type { QueueSettings } from './settings';

export type RefusalReason = 'user' | 'address' | 'challenge' | 'replay';

const WINDOW_MS = 60_000;
const MAX_PAYLOAD = 2_048;

/**
 * Abuse defence in front of joining: the optional proof of work (ALTCHA, verified without
 * state; only a used solution is remembered, to refuse its replay) and the per-user and
 * per-address join limits (Redis counters, so every process shares them). Every refusal is
 * counted by reason for the organiser.
 */
export class JoinGuard {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly settings: QueueSettings,
    /** Current queue secret first, then earlier ones (a challenge issued before a rotation still verifies). */
    private readonly secrets: readonly string[],
  ) {}

  /** A challenge bound to this event: its HMAC key is derived from the queue secret and the event. */
  challenge(event: BoxEvent) {
    return createChallenge({
      hmacKey: this.hmacKey(this.secrets[0]!, event.id),
      maxNumber: this.settings.challengeMaxNumber,
      expires: new Date(Date.now() + this.settings.challengeTtlMs),
    });
  }

  /** Throws 403 CHALLENGE_REQUIRED or 429 RATE_LIMITED, or lets the join through. */
  async admit(event: BoxEvent, userId: string, address: string, solution: string | undefined): Promise<void> {
    if (event.queue.challenge === 'pow') await this.checkSolution(event, solution);
    const k = queueKeys(this.prefix, event.id);
    const { joinLimitPerUser: perUser, joinLimitPerAddress: perAddress } = this.settings;
    if (!perUser && !perAddress) return;
    const [code, ms] = (await runScript(this.redis, 'queueLimit', [k.joinsByUser(userId), k.joinsByAddress(address), k.refused], [perUser, perAddress, WINDOW_MS])) as [number, number];
    if (code === 0) return;
    const retryAfter = Math.max(1, Math.ceil(ms / 1000));
    throw code === 1
      ? Errors.rateLimited('too many joins from this user; try again shortly', retryAfter, { limit: perUser, windowSeconds: WINDOW_MS / 1000, per: 'user' })
      : Errors.rateLimited('too many joins from this address; try again shortly', retryAfter, { limit: perAddress, windowSeconds: WINDOW_MS / 1000, per: 'address' });
  }

  private async checkSolution(event: BoxEvent, solution: string | undefined): Promise<void> {
    const payload = solution && solution.length <= MAX_PAYLOAD ? decode(solution) : null;
    let valid = false;
    if (payload) {
      for (const secret of this.secrets) {
        if (await verifySolution(payload, this.hmacKey(secret, event.id), true).catch(() => false)) {
          valid = true;
          break;
        }
      }
    }
    if (!valid) {
      await this.refuse(event, 'challenge');
      throw Errors.challengeRequired(solution ? 'the proof-of-work solution is invalid or expired; fetch a new challenge' : undefined);
    }
    // Stateless until here; a solution is good for one join, remembered until its challenge expires.
    const expires = Number(extractParams(payload!).expires) * 1000;
    const ttl = Math.max(1_000, Math.min(this.settings.challengeTtlMs, (Number.isFinite(expires) ? expires : Date.now() + this.settings.challengeTtlMs) - Date.now()));
    const fresh = await this.redis.set(queueKeys(this.prefix, event.id).challengeUsed(payload!.signature), '1', 'PX', ttl, 'NX');
    if (fresh === null) {
      await this.refuse(event, 'replay');
      throw Errors.challengeRequired('this proof-of-work solution was already used; fetch a new challenge');
    }
  }

  private async refuse(event: BoxEvent, reason: RefusalReason): Promise<void> {
    await this.redis.hincrby(queueKeys(this.prefix, event.id).refused, reason, 1).catch(() => {});
  }

  private hmacKey(secret: string, eventId: string): string {
    return createHmac('sha256', secret).update(`altcha:${eventId}`).digest('hex');
  }
}

/** The ALTCHA widget sends base64 of the JSON payload; plain JSON is accepted too. */
function decode(raw: string): Payload | null {
  try {
    const text = raw.trimStart().startsWith('{') ? raw : Buffer.from(raw, 'base64').toString('utf8');
    const p = JSON.parse(text) as Partial<Record<keyof Payload, unknown>>;
    if (typeof p.algorithm !== 'string' || typeof p.challenge !== 'string' || typeof p.number !== 'number' || typeof p.salt !== 'string' || typeof p.signature !== 'string') return null;
    return p as Payload; // the algorithm is checked by verifySolution
  } catch {
    return null;
  }
}
