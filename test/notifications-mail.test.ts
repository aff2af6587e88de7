import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { createSigner } from 'fast-jwt';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalFromClaims } from '../src/auth/principal';
import { DedupingConsumer } from '../src/consumers/dedupe';
import { notificationHandler } from '../src/consumers/notifier';
import { createMailer } from '../src/mail/mailer';
import { createKafka, ensureTopic } from '../src/outbox/kafka';
import { createRelayKafka, OutboxRelay } from '../src/outbox/relay';
import { startHarness, type Harness } from './harness';
import { eventually } from './kafka/collect';
import { holdSeats } from './payments/helpers';

type Received = { from: string; to: string[]; raw: string };

let h: Harness;
let kafka: Kafka;
let topic: string;
let smtp: SMTPServer;
let smtpPort = 0;
const inbox: Received[] = [];
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  // A real SMTP server on loopback: nodemailer speaks the whole protocol to it.
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, done) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      stream.on('end', () => {
        inbox.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw });
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  topic = `t.mail.${randomUUID().slice(0, 8)}`;
  h = await startHarness({ NODE_ENV: 'development', KAFKA_TOPIC: topic, PAYMENT_PROVIDER: 'dev' });
  kafka = createKafka(h.config.kafka, h.core.logger);
  await ensureTopic(kafka, topic, 1);
});
afterAll(async () => {
  for (const s of stops.reverse()) await s();
  await h.close();
  await new Promise<void>((r) => smtp.close(() => r()));
});

/** Quoted-printable soft breaks undone, so long ticket codes can be searched for. */
const unfold = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');

/** The real path once per file: relay -> Kafka -> the notifications consumer -> SMTP. */
let pipeline: Promise<void> | undefined;
function startPipeline(): Promise<void> {
  pipeline ??= (async () => {
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${smtpPort}`, mailDir: 'unused', from: 'boxoffice <tickets@boxoffice.test>' });
    stops.push(async () => mailer.close());
    const consumer = new DedupingConsumer({
      kafka,
      sql: h.core.sql,
      logger: h.core.logger,
      name: `mail-${randomUUID()}`,
      topic,
      handle: notificationHandler(h.core.logger, { mailer, tickets: h.core.tickets, userDomain: 'example.test' }),
    });
    await consumer.start();
    stops.push(() => consumer.stop());
    const relay = new OutboxRelay({ sql: h.core.sql, kafka: createRelayKafka(h.config.kafka, h.core.logger), logger: h.core.logger, topics: [topic] });
    await relay.start();
    stops.push(() => relay.stop());
  })();
  return pipeline;
}

/** A buyer's token as an identity provider would issue it, with extra claims (HS256, the test secret). */
const tokenWith = (claims: Record<string, unknown>) => createSigner({ key: h.config.jwtSecret, algorithm: 'HS256', expiresIn: 3_600_000 })(claims);

/** Holds two seats with `token`, checks out and pays (dev provider); the booking code. */
async function buyWith(token: string): Promise<string> {
  const ev = (await h.createEvent({ name: 'Claim Night' })).id;
  const held = await h.call('POST', `/v1/events/${ev}/reservations`, { token, body: { seats: ['A-1-1', 'A-1-2'] } });
  expect(held.status).toBe(201);
  const c = await h.call('POST', `/v1/reservations/${held.body.id}/checkout`, { token });
  expect(c.status).toBe(201);
  // The address is kept for the mail, not echoed back.
  expect(JSON.stringify(c.body)).not.toContain('@');
  expect((await h.call('POST', `/v1/dev/payments/${c.body.paymentId}/succeed`, { token })).status).toBe(200);
  const r = await h.call('GET', `/v1/reservations/${held.body.id}`, { token });
  expect(r.body.status).toBe('confirmed');
  return r.body.bookingCode;
}

const mailOf = async (bookingCode: string) => {
  expect(await eventually(() => inbox.some((m) => unfold(m.raw).includes(bookingCode)), 20_000, 100)).toBe(true);
  return inbox.filter((m) => unfold(m.raw).includes(bookingCode));
};

describe('confirmation mail', () => {
  it('a paid booking reaches the buyer over SMTP with every ticket code and its QR code, once', async () => {
    await startPipeline();
    const ev = (await h.createEvent({ name: 'Mail Night' })).id;
    const buyer = `buyer-${randomUUID().slice(0, 8)}@example.org`;
    const { token, reservation } = await holdSeats(h, ev, ['A-1-1', 'A-1-2'], buyer);
    const c = await h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token });
    await h.call('POST', `/v1/dev/payments/${c.body.paymentId}/succeed`, { token });
    const tickets = (await h.call('GET', `/v1/reservations/${reservation.id}/tickets`, { token })).body.tickets;

    expect(await eventually(() => inbox.some((m) => m.to.includes(buyer)), 20_000, 100)).toBe(true);
    const mail = inbox.find((m) => m.to.includes(buyer))!;
    const raw = unfold(mail.raw);
    expect(raw).toMatch(/Subject: Your tickets for Mail Night/);
    for (const t of tickets) expect(raw).toContain(t.code);
    expect(raw.match(/Content-Type: image\/svg\+xml/g)).toHaveLength(2);
    expect(mail.from).toBe('tickets@boxoffice.test');
    // Held and cancelled bookings send nothing; the one confirmation was sent once.
    await new Promise((r) => setTimeout(r, 500));
    expect(inbox.filter((m) => m.to.includes(buyer))).toHaveLength(1);
  });

  it("goes to the token's email claim when the checkout's token had one; else the subject rule as before", async () => {
    await startPipeline();
    const sub = `sub-${randomUUID().slice(0, 8)}`;
    const address = `Real.Buyer+${randomUUID().slice(0, 6)}@mail.example.org`;
    const withClaim = await mailOf(await buyWith(await tokenWith({ sub, email: address })));
    expect(withClaim.map((m) => m.to)).toEqual([[address]]);

    // No claim, or one that is no plausible address (a header injection, a space, too long,
    // or not verified by the provider): the subject, or <subject>@MAIL_USER_DOMAIN.
    const cases: Record<string, unknown>[] = [
      {},
      { email: 'x@evil.example\r\nBcc: all@evil.example' },
      { email: 'two words@example.org' },
      { email: `${'a'.repeat(250)}@example.org` },
      { email: 'no-domain@' },
      { email: 42 },
      { email: 'unverified@example.org', email_verified: false },
    ];
    for (const extra of cases) {
      const plain = `plain-${randomUUID().slice(0, 8)}`;
      const mails = await mailOf(await buyWith(await tokenWith({ sub: plain, ...extra })));
      expect([extra, mails.map((m) => m.to)]).toEqual([extra, [[`${plain}@example.test`]]]);
    }
  });

  it('principalFromClaims carries a plausible email claim only', () => {
    const now = Math.floor(Date.now() / 1000);
    const p = (claims: Record<string, unknown>) => principalFromClaims({ sub: 'u1', exp: now + 60, ...claims }, now, 3600);
    expect(p({ email: 'ana@example.org' })).toEqual({ id: 'u1', role: 'user', email: 'ana@example.org' });
    expect(p({ email: 'ana@bücher.example' }).email).toBe('ana@bücher.example');
    expect(p({ email: 'ana@example.org', email_verified: true }).email).toBe('ana@example.org');
    for (const email of ['ana@example.org\n', 'ana\u0000@example.org', 'ana@localhost', '<ana@example.org>', 'a,b@example.org', 'ana@-x.example', '\ud800@example.org', `${'a'.repeat(243)}@example.org`]) {
      expect([email, 'email' in p({ email })]).toEqual([email, false]);
    }
    expect('email' in p({ email: `${'a'.repeat(242)}@example.org` })).toBe(true);
  });

  it('without SMTP_URL each mail is written to the mail folder as an .eml file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bo-mail-'));
    try {
      const mailer = createMailer({ mailDir: dir, from: 'boxoffice <tickets@boxoffice.test>' });
      const sent = await mailer.send({ to: 'alice@example.test', subject: 'hello', text: 'tickets here' });
      const files = await readdir(dir);
      expect(files).toHaveLength(1);
      expect(path.join(dir, files[0]!)).toBe(sent.file);
      const eml = await readFile(sent.file!, 'utf8');
      expect(eml).toMatch(/To: alice@example.test/);
      expect(eml).toContain('tickets here');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
