import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../src/config/config';
import { checkRedis, clusterOptions, createRedis, singleUrl, type RedisClient } from '../src/redis/client';

// A managed Redis (Cluster): TLS, AUTH with an ACL user, and nodes that announce addresses
// the application cannot reach. The options are checked as built, then against real
// redis-server processes this file starts on spare ports (TLS only, the default user off,
// a cluster node announcing a TEST-NET address), so the shared Redis and cluster are untouched.
const base = { NODE_ENV: 'test' } as NodeJS.ProcessEnv;

describe('options built from the environment', () => {
  it('TLS, AUTH and the NAT map reach every cluster node connection', () => {
    const cfg = loadConfig({
      ...base,
      REDIS_CLUSTER_NODES: 'clustercfg.example.internal:6379',
      REDIS_TLS: 'true',
      REDIS_USERNAME: 'app',
      REDIS_PASSWORD: 's3cret',
      REDIS_CLUSTER_NAT_MAP: '10.0.1.5:6379=203.0.113.5:16379, 10.0.2.6:6379=203.0.113.6:16380',
    }).redis;
    const o = clusterOptions(cfg);
    expect(o.redisOptions).toMatchObject({ tls: {}, username: 'app', password: 's3cret' });
    expect(o.natMap).toEqual({ '10.0.1.5:6379': { host: '203.0.113.5', port: 16379 }, '10.0.2.6:6379': { host: '203.0.113.6', port: 16380 } });
    // With TLS, the host name is kept (the certificate names it), not resolved to an address.
    let looked: string | undefined;
    o.dnsLookup!('clustercfg.example.internal', (_err, address) => (looked = address));
    expect(looked).toBe('clustercfg.example.internal');
  });

  it('without them, nothing is added; a NAT map needs a cluster and a host:port=host:port list', () => {
    const o = clusterOptions(loadConfig({ ...base, REDIS_CLUSTER_NODES: '127.0.0.1:7100' }).redis);
    expect(o.redisOptions).not.toHaveProperty('tls');
    expect(o.redisOptions).not.toHaveProperty('password');
    expect(o.natMap).toBeUndefined();
    expect(o.dnsLookup).toBeUndefined();
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NAT_MAP: '10.0.1.5:6379=127.0.0.1:7100' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: '127.0.0.1:7100', REDIS_CLUSTER_NAT_MAP: '10.0.1.5=127.0.0.1' })).toThrow(/REDIS_CLUSTER_NAT_MAP/);
  });

  it('REDIS_PASSWORD / REDIS_USERNAME replace the credentials of REDIS_URL', () => {
    const url = 'redis://olduser:oldpw@redis.internal:6380/2';
    expect(singleUrl(loadConfig({ ...base, REDIS_URL: url }).redis)).toBe(url);
    expect(singleUrl(loadConfig({ ...base, REDIS_URL: url, REDIS_PASSWORD: 'new' }).redis)).toBe('redis://olduser@redis.internal:6380/2');
    expect(singleUrl(loadConfig({ ...base, REDIS_URL: url, REDIS_USERNAME: 'u', REDIS_PASSWORD: 'new' }).redis)).toBe('redis://redis.internal:6380/2');
  });
});

const hasTools = spawnSync('openssl', ['version']).status === 0 && spawnSync('redis-server', ['--version']).status === 0;

describe.skipIf(!hasTools)('against real redis-server processes (TLS only, ACL user)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'boxoffice-redis-tls-'));
  const procs: ChildProcess[] = [];
  const clients: RedisClient[] = [];
  let singlePort = 0;
  let clusterPort = 0;
  // TEST-NET-3: announced by the cluster node, never reachable from here.
  const announced = '203.0.113.7';

  const freePort = () =>
    new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
    });

  async function startServer(name: string, lines: string[]): Promise<void> {
    const conf = path.join(dir, `${name}.conf`);
    writeFileSync(conf, [
      'port 0', `tls-cert-file ${dir}/cert.pem`, `tls-key-file ${dir}/key.pem`, `tls-ca-cert-file ${dir}/cert.pem`,
      'tls-auth-clients no', 'user default off', 'user app on >app-password ~* &* +@all', 'save ""', 'appendonly no', `dir ${dir}`, ...lines,
    ].join('\n'));
    const p = spawn('redis-server', [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(p);
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: not ready in 10 s\n${log}`)), 10_000);
      p.stdout!.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes('Ready to accept connections')) (clearTimeout(timer), resolve());
      });
      p.once('exit', (code) => (clearTimeout(timer), reject(new Error(`${name}: exited ${code}\n${log}`))));
    });
  }

  const cfg = (over: Partial<Config['redis']>): Config['redis'] => ({
    ...loadConfig(base).redis, commandTimeoutMs: 1_000, connectTimeoutMs: 1_000, tls: { caFile: `${dir}/cert.pem` },
    username: 'app', password: 'app-password', ...over,
  });
  const client = (c: Config['redis']) => {
    const r = createRedis(c);
    clients.push(r);
    return r;
  };

  beforeAll(async () => {
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`,
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
    if (gen.status !== 0) throw new Error(`openssl: ${gen.stderr}`);
    [singlePort, clusterPort] = [await freePort(), await freePort()];
    const busPort = await freePort();
    await startServer('single', [`tls-port ${singlePort}`]);
    await startServer('cluster', [
      `tls-port ${clusterPort}`, 'tls-cluster yes', 'cluster-enabled yes', `cluster-port ${busPort}`,
      `cluster-config-file ${dir}/nodes.conf`, `cluster-announce-ip ${announced}`, 'cluster-require-full-coverage no',
    ]);
    // One master with every slot: a cluster that needs no bus peer.
    const admin = client(cfg({ url: `redis://127.0.0.1:${clusterPort}` }));
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    for (let i = 0; !String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'); i++) {
      if (i > 100) throw new Error('cluster_state never ok');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(String(await admin.call('CLUSTER', 'SLOTS'))).toContain(announced);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : null)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('one Redis: TLS with a private CA and an ACL user; the environment password beats the URL one', async () => {
    const r = client(cfg({ url: `redis://:wrong-password@127.0.0.1:${singlePort}` }));
    expect(await r.ping()).toBe('PONG');
    expect(await r.acl('WHOAMI')).toBe('app');
  });

  it('one Redis: a wrong password, or no TLS, is refused', async () => {
    const wrong = client(cfg({ url: `redis://127.0.0.1:${singlePort}`, password: 'nope' }));
    await expect(wrong.ping()).rejects.toThrow(/WRONGPASS|invalid username-password/i);
    const plain = client(cfg({ url: `redis://127.0.0.1:${singlePort}`, tls: undefined }));
    await expect(plain.ping()).rejects.toThrow();
  });

  it('cluster: a node announcing an address out of reach works through the NAT map, over TLS with AUTH', async () => {
    const c = client(cfg({ clusterNodes: [{ host: '127.0.0.1', port: clusterPort }], natMap: { [`${announced}:${clusterPort}`]: { host: '127.0.0.1', port: clusterPort } } }));
    const key = `managed:{evt:${Date.now()}}:n`;
    expect(await c.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, key, '41')).toBe(41);
    expect(await c.incr(key)).toBe(42);
    await checkRedis(c);
    await c.del(key);
  });

  it('cluster: without the NAT map the announced address is used, and nothing answers', async () => {
    const c = client(cfg({ clusterNodes: [{ host: '127.0.0.1', port: clusterPort }], connectTimeoutMs: 300, commandTimeoutMs: 1_000 }));
    // The client keeps retrying the unreachable address: within 3 s the write has failed or still waits.
    const outcome = await Promise.race([
      c.set(`managed:{evt:x}:y`, '1').then(String, () => 'failed'),
      new Promise<string>((r) => setTimeout(() => r('waiting'), 3_000)),
    ]);
    expect(outcome).not.toBe('OK');
    c.disconnect();
  });
});

// The CA file is read when the client is made: a wrong path fails at start, not per command.
it('a missing CA file fails client creation', () => {
  const c = loadConfig({ ...base, REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }).redis;
  expect(() => createRedis({ ...c, url: 'redis://127.0.0.1:1' }, { lazy: true })).toThrow(/ENOENT/);
});
