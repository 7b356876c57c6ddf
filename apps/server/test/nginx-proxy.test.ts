/**
 * The shipped nginx configuration (`deploy/nginx/`), run for real: nginx as a child process with a
 * generated top-level config around `wxstream-proxy.conf`, in front of two real server instances
 * and the upstream emulator, all on loopback. Skipped, saying why, when no nginx binary is found
 * (Debian: `apt-get install nginx`).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { parseErrorBody } from '@wxstream/protocol';
import type { OpenAICompatibleEmulator } from '../src/offline-model/openai-compatible-emulator.ts';
import { chatRequest, login, openStream, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startEmulator, startTestServer, type TestServer } from './support/test-server.ts';

const DEPLOY_DIR = resolve(import.meta.dirname, '../../../deploy/nginx');

function findNginx(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];
  return dirs.map((dir) => join(dir, 'nginx')).find((candidate) => existsSync(candidate) && spawnSync(candidate, ['-v']).status === 0);
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

interface RunningNginx {
  readonly url: string;
  readonly prefix: string;
  stop(): Promise<void>;
}

/** nginx in the foreground, everything it writes inside a temporary prefix, gzip on globally so
 *  the test proves the stream locations switch it off. */
async function startNginx(binary: string, upstreamPorts: readonly number[]): Promise<RunningNginx> {
  const prefix = await mkdtemp(join(tmpdir(), 'wxstream-nginx-'));
  const port = await freePort();
  const config = `
daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 128; }
http {
    access_log ${prefix}/access.log;
    client_body_temp_path ${prefix}/client_body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;
    gzip on;
    gzip_min_length 1;
    gzip_types text/event-stream application/json;
    upstream wxstream_app {
${upstreamPorts.map((upstreamPort) => `        server 127.0.0.1:${upstreamPort};`).join('\n')}
        keepalive 8;
    }
    server {
        listen 127.0.0.1:${port};
        include ${join(DEPLOY_DIR, 'wxstream-proxy.conf')};
    }
}
`;
  await writeFile(join(prefix, 'nginx.conf'), config);
  const child: ChildProcess = spawn(binary, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (bytes: Buffer) => (stderr += bytes.toString()));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(prefix, { recursive: true, force: true });
  };
  for (let tries = 0; ; tries += 1) {
    if (child.exitCode !== null) {
      const log = await readFile(join(prefix, 'error.log'), 'utf8').catch(() => '');
      await stop();
      throw new Error(`nginx exited at start: ${stderr}${log}`);
    }
    const ready = await send(url, '/healthz').then(
      (answer) => answer.status === 200,
      () => false,
    );
    if (ready) break;
    if (tries > 100) {
      await stop();
      throw new Error(`nginx did not answer within 5 s: ${stderr}`);
    }
    await sleep(50);
  }
  return { url, prefix, stop };
}

const nginx = findNginx();
const CONTENT = ['第一', '段，', 'then ', 'more ', 'text ', '😀 end'];

describe('nginx in front of two instances', { skip: nginx === undefined ? 'nginx is not installed (Debian: apt-get install nginx)' : false }, () => {
  let emulator: OpenAICompatibleEmulator;
  let instances: TestServer[];
  let proxy: RunningNginx;

  before(async () => {
    emulator = await startEmulator({ scenario: { content: CONTENT, chunkDelayMs: 120 } });
    // Shared TOKEN_SECRET (the test default): a token from one instance is good on the other.
    // nginx is on loopback: the instances believe its X-Forwarded-For and X-Request-Id. Logins are
    // limited per address (2 at once), so the test can see which address the instances believed.
    const env = { HEARTBEAT_INTERVAL_MS: '40', OPENAI_MODEL: 'emulated-model', TRUST_PROXY: 'loopback', LOGIN_RATE_LIMIT_PER_MINUTE: '1', LOGIN_RATE_LIMIT_BURST: '3' };
    instances = [await startTestServer({ upstream: emulator, env }), await startTestServer({ upstream: emulator, env })];
    proxy = await startNginx(nginx ?? 'nginx', instances.map((instance) => instance.server.port));
  });
  after(async () => {
    await proxy?.stop();
    for (const instance of instances ?? []) await instance.close();
    await emulator?.close();
  });

  test('a streamed reply passes through event by event, with its headers and heartbeats, uncompressed', async () => {
    const token = await login(proxy.url);
    const before = emulator.requests.length;
    const stream = await openStream(
      proxy.url,
      '/api/chat',
      chatRequest(token, { message: 'through nginx' }, { 'X-Request-Id': 'nginx-test-0001', 'Accept-Encoding': 'gzip' }),
    );
    await stream.ended;

    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
    assert.match(String(stream.headers['cache-control']), /no-cache/);
    assert.equal(stream.headers['content-encoding'], undefined, 'gzip is off on the stream routes');
    // nginx's own request id, never the one the client chose; the instance logged under it.
    const requestId = String(stream.headers['x-request-id']);
    assert.match(requestId, /^[0-9a-f]{32}$/);
    assert.ok(instances.some((instance) => instance.logs.some((record) => record.requestId === requestId && record.path === '/api/chat')), 'an instance logged the reply under nginx\'s id');
    assert.ok(!instances.some((instance) => instance.logs.some((record) => record.requestId === 'nginx-test-0001')), "the client's id was never used");
    assert.ok(stream.headers['x-wxstream-protocol'] !== undefined, 'the protocol header is passed on');

    const reply = parseReplyBody(stream.text());
    assert.equal(reply.text, CONTENT.join(''));
    assert.equal(reply.events.at(-1)?.type, 'done');
    assert.ok(reply.blocks.some((block) => block.kind === 'heartbeat'), 'heartbeats pass through');

    // Ordering, not speed: the first delta reached the client before the emulator had even
    // finished writing the reply, so nginx held nothing back.
    const upstreamRequest = emulator.requests[before];
    assert.ok(upstreamRequest?.finishedAt !== undefined);
    let seen = '';
    let firstDeltaAt: number | undefined;
    for (const chunk of stream.received) {
      seen += chunk.bytes.toString('latin1');
      if (seen.includes('event: delta')) {
        firstDeltaAt = chunk.at;
        break;
      }
    }
    assert.ok(firstDeltaAt !== undefined);
    assert.ok(firstDeltaAt < upstreamRequest.finishedAt, `first delta at ${firstDeltaAt}, upstream finished at ${upstreamRequest.finishedAt}`);
    assert.ok(stream.received.length > CONTENT.length / 2, `the body arrived in ${stream.received.length} pieces, not at once`);
  });

  test('requests are spread over both instances, and one instance accepts the token of the other', async () => {
    const token = await login(proxy.url);
    for (let round = 0; round < 4; round += 1) {
      const answer = await send(proxy.url, `/api/conversations?round=${round}`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(answer.status, 200, answer.text);
    }
    for (const instance of instances) {
      const served = instance.logs.filter((record) => record.msg === 'request finished' && record.path === '/api/conversations');
      assert.ok(served.length >= 1, 'each instance served some of the requests');
    }
  });

  test('/metrics is denied at nginx (scrape instances directly); the instances still serve it', async () => {
    assert.equal((await send(proxy.url, '/metrics')).status, 403);
    assert.equal((await send(instances[0]?.url ?? '', '/metrics')).status, 200);
  });

  test('a body over MAX_BODY_BYTES is refused by nginx itself, in the protocol\'s error shape', async () => {
    const token = await login(proxy.url);
    const reached = instances.map((instance) => instance.logs.filter((record) => record.msg === 'request finished' && record.path === '/api/chat').length);
    const answer = await send(proxy.url, '/api/chat', chatRequest(token, { message: 'x'.repeat(70_000) }));
    assert.equal(answer.status, 413);
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    assert.equal(parseErrorBody(answer.json())?.code, 'payload_too_large');
    assert.deepEqual(
      instances.map((instance) => instance.logs.filter((record) => record.msg === 'request finished' && record.path === '/api/chat').length),
      reached,
      'no instance saw the request',
    );
  });

  test("a client's own X-Forwarded-For is dropped by nginx: the per-address login limit holds however it is spoofed", async () => {
    const post = (forwardedFor: string) =>
      send(proxy.url, '/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': forwardedFor }, body: { code: 'spoofer' } });
    // Every login of this suite came from 127.0.0.1; whichever instance answers, the limit is per
    // instance here (no Redis), so keep going until one refuses.
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12 && !statuses.includes(429); attempt += 1) statuses.push((await post(`203.0.113.${attempt}`)).status);
    assert.ok(statuses.includes(429), `a refusal despite a new X-Forwarded-For each time: ${statuses.join(', ')}`);
  });
});

const openssl = spawnSync('openssl', ['version']).status === 0;

test('the shipped site configuration (TLS, two instances) passes nginx -t', {
  skip: nginx === undefined ? 'nginx is not installed (Debian: apt-get install nginx)' : !openssl ? 'openssl is not installed: no certificate to test TLS with' : false,
}, async () => {
  const prefix = await mkdtemp(join(tmpdir(), 'wxstream-nginx-t-'));
  try {
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=chat.example.com', '-keyout', join(prefix, 'key.pem'), '-out', join(prefix, 'cert.pem')]);
    assert.equal(made.status, 0, String(made.stderr));
    const site = (await readFile(join(DEPLOY_DIR, 'wxstream.conf'), 'utf8'))
      .replaceAll('/etc/ssl/certs/chat.example.com.fullchain.pem', join(prefix, 'cert.pem'))
      .replaceAll('/etc/ssl/private/chat.example.com.key', join(prefix, 'key.pem'))
      .replaceAll('/etc/nginx/wxstream-proxy.conf', join(DEPLOY_DIR, 'wxstream-proxy.conf'));
    await writeFile(join(prefix, 'site.conf'), site);
    await writeFile(join(prefix, 'nginx.conf'), `pid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log;\nevents {}\nhttp {\n    include ${join(prefix, 'site.conf')};\n}\n`);
    const checked = spawnSync(nginx ?? 'nginx', ['-t', '-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')]);
    assert.equal(checked.status, 0, String(checked.stderr));
    assert.match(String(checked.stderr), /test is successful/);
  } finally {
    await rm(prefix, { recursive: true, force: true });
  }
});
