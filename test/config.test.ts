import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config';

describe('config', () => {
  it('defaults work locally and warn about development secrets', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.db.url).toBe('postgres://postgres@127.0.0.1:5432/boxoffice');
    expect(c.insecureDefaults).toEqual(['JWT_SECRET', 'QUEUE_SECRET', 'DEV_PAYMENT_SECRET', 'TICKET_SIGNING_KEY']);
  });

  it('lists every bad variable at once', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', PG_POOL_MAX: '0', LOG_LEVEL: 'loud', KAFKA_TOPIC: 'bad topic!' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const names = (err as ConfigError).problems.map((p) => p.split(':')[0]).sort();
    expect(names).toEqual(['KAFKA_TOPIC', 'LOG_LEVEL', 'PG_POOL_MAX', 'PORT']);
  });

  it('production refuses to start without its secrets, and with equal ones', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: required[\s\S]*QUEUE_SECRET: required/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), QUEUE_SECRET: 'x'.repeat(32) })).toThrow(/must differ/);
    const prod = { NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(32), QUEUE_SECRET: 'b'.repeat(32), TICKET_SIGNING_KEY: 'c'.repeat(43) };
    const c = loadConfig({ ...prod, PAYMENT_PROVIDER: 'none' });
    expect(c.insecureDefaults).toEqual([]);
  });

  it('development routes only in development with the development secret', () => {
    expect(loadConfig({}).devRoutes).toBe(true);
    expect(loadConfig({ NODE_ENV: '' }).env).toBe('development');
    expect(loadConfig({ JWT_SECRET: 'a-real-secret-of-32-characters!!' }).devRoutes).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).devRoutes).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'dev-secret-change-me', QUEUE_SECRET: 'b'.repeat(32), PAYMENT_PROVIDER: 'none', TICKET_SIGNING_KEY: 'c'.repeat(43) }).devRoutes).toBe(false);
  });

  it('production names its payment provider; stripe needs its keys', () => {
    const prod = { NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(32), QUEUE_SECRET: 'b'.repeat(32), TICKET_SIGNING_KEY: 'c'.repeat(43) };
    expect(() => loadConfig(prod)).toThrow(/PAYMENT_PROVIDER: required/);
    expect(() => loadConfig({ ...prod, PAYMENT_PROVIDER: 'stripe' })).toThrow(/STRIPE_SECRET_KEY[\s\S]*STRIPE_WEBHOOK_SECRET/);
    expect(() => loadConfig({ ...prod, PAYMENT_PROVIDER: 'dev' })).toThrow(/DEV_PAYMENT_SECRET: required/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(32), QUEUE_SECRET: 'b'.repeat(32), PAYMENT_PROVIDER: 'none' })).toThrow(
      /TICKET_SIGNING_KEY: required/,
    );
    const c = loadConfig({ ...prod, PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_x1' });
    expect(c.payments.provider).toBe('stripe');
    expect(loadConfig({}).payments.provider).toBe('dev');
  });

  it('a rebuild must outwait the statement timeout', () => {
    expect(() => loadConfig({ PG_STATEMENT_TIMEOUT_MS: '5000', REBUILD_QUIESCE_MS: '4000' })).toThrow(/REBUILD_QUIESCE_MS/);
  });
});
