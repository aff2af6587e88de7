import { z } from '@hono/zod-openapi';
import { Text } from '../http/schemas';

export const TicketQuery = z.object({
  ticket: Text(1, 1024)
    .openapi({ param: { name: 'ticket', in: 'query' }, description: 'the ticket from POST .../queue' }),
});

const views = {
  status: z.enum(['lobby', 'waiting', 'admitted']),
  lobbySize: z.number().int().optional().openapi({ description: 'lobby: buyers waiting for the opening draw' }),
  opensAt: z.string().optional(),
  position: z.number().int().nullable().optional().openapi({ description: 'ticket number - admittedUpTo; null in the lobby' }),
  ahead: z.number().int().optional(),
  etaSeconds: z.number().int().nullable().optional().openapi({ description: 'from the measured rate; null while paused' }),
  admittedUpTo: z.number().int().optional(),
  paused: z.boolean().optional(),
  pass: z.string().optional().openapi({ description: 'admitted: send as X-Queue-Pass when holding seats' }),
  expiresAt: z.string().optional(),
};

export const SnapshotSchema = z.object(views).openapi('QueueSnapshot');
export const JoinSchema = z.object({ ticket: z.string(), ...views }).openapi('QueueTicket');

export const QueuePatchBody = z
  .object({
    paused: z.boolean().optional(),
    admitPerSecond: z.number().int().min(1).max(100_000).optional(),
  })
  .strict()
  .refine((b) => b.paused !== undefined || b.admitPerSecond !== undefined, {
    message: 'send paused and/or admitPerSecond',
  })
  .openapi('QueuePatch', { example: { paused: false, admitPerSecond: 500 } });

export const AdminQueueSchema = z
  .object({
    eventId: z.string(),
    opensAt: z.string(),
    paused: z.boolean(),
    admitPerSecond: z.number().int(),
    lobbySize: z.number().int(),
    issued: z.number().int(),
    admittedUpTo: z.number().int(),
    admitted: z.number().int().openapi({ description: 'buyers admitted (skipped tickets excluded)' }),
    skipped: z.number().int(),
    waiting: z.number().int(),
    maxActive: z.number().int().nullable().openapi({ description: 'cap on live passes (null: none)' }),
    activePasses: z.number().int().nullable().openapi({ description: 'live passes now (counted only with a cap)' }),
    endedPasses: z.number().int().openapi({ description: 'passes ended early: spent (confirm / cancel) or revoked' }),
    refused: z
      .object({ user: z.number().int(), address: z.number().int(), challenge: z.number().int(), replay: z.number().int() })
      .openapi({ description: 'joins refused, by reason: per-user limit, per-address limit, missing / invalid proof of work, replayed solution' }),
  })
  .openapi('QueueState');

export const ChallengeSchema = z
  .object({
    algorithm: z.string(),
    challenge: z.string(),
    maxnumber: z.number().int().optional(),
    salt: z.string(),
    signature: z.string(),
  })
  .openapi('QueueChallenge', { description: 'ALTCHA challenge; send the solved payload (base64 JSON) in X-Queue-Challenge' });

export const RevokedSchema = z
  .object({ eventId: z.string(), userId: z.string(), status: z.literal('revoked'), admittedAt: z.string() })
  .openapi('QueuePassRevoked');

export const UserParam = z.object({
  id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }),
  userId: z.string().min(1).max(128).openapi({ param: { name: 'userId', in: 'path' } }),
});
