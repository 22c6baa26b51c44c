// sendFile(socket, file): a file to a socket by splice on io_uring, from a
// real node:http server to a real client on loopback: the bytes the client
// gets are the file's, keep-alive goes on after it, and the failure paths
// (the client leaving mid-file, the file cut short during the send, bad
// arguments) reject with their typed errors and leave the server serving.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import * as kaio from 'kaio';
import { skip } from './helpers';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/** A node:http server on 127.0.0.1 whose requests go to `handler` (settable per test). */
async function startServer(): Promise<{ server: http.Server; port: number; set(h: Handler): void }> {
  let handler: Handler = async (_req, res) => { res.writeHead(404).end(); };
  const server = http.createServer((req, res) => {
    handler(req, res).catch((e) => { res.destroy(e as Error); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port, set: (h) => { handler = h; } };
}

function get(port: number, urlPath: string, agent: http.Agent): Promise<{ res: http.IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** The most a loopback connection can hold unread: the sender's and receiver's socket buffers at their largest. */
function socketBufferBound(): number {
  const max = (f: string): number => Number(fs.readFileSync(f, 'utf8').trim().split(/\s+/)[2]);
  return max('/proc/sys/net/ipv4/tcp_wmem') + max('/proc/sys/net/ipv4/tcp_rmem');
}

describe('28 sendFile: a file to a socket by splice on io_uring', function () {
  let dir: string;
  let srv: Awaited<ReturnType<typeof startServer>>;

  before(async function () {
    const ctx = kaio.defaultContext();
    if (!(ctx instanceof kaio.Ring) || !ctx.supports('SPLICE') || !ctx.supports('POLL_ADD')) skip(this, 'the default context is no Ring with IORING_OP_SPLICE and POLL_ADD');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-28-'));
    srv = await startServer();
  });
  after(() => {
    srv?.server.close();
    srv?.server.closeAllConnections();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a node:http response (res, or res.socket once the head is flushed): the client gets the file\'s bytes (whole, a range, empty), and keep-alive goes on on the same socket', async () => {
    const p = path.join(dir, 'data');
    const data = crypto.randomBytes((5 << 20) + 12345);
    fs.writeFileSync(p, data);
    const results: number[] = [];
    // The client has a body once its last byte arrives, which can be before
    // the server's sendFile promise settles: the check waits for the handlers.
    let handled = 0;
    let allHandled!: () => void;
    const handlersDone = new Promise<void>((resolve) => { allHandled = resolve; });
    srv.set(async (req, res) => {
      const [start, length] = (req.url ?? '/').slice(1).split('-').map(Number);
      res.writeHead(200, { 'content-length': length });
      // A path, and (for the range) a kaio FileHandle, opened first: the
      // client's next request may come before this response ends, when
      // node:http gives its response no socket yet (sendFile waits for it).
      if (start === 0) results.push(await kaio.sendFile(res, p, { length }));
      else {
        const fh = await kaio.open(p, 'r');
        try {
          results.push(await kaio.sendFile(res, fh, { start, length }));
        } finally {
          await fh.close();
        }
      }
      res.end();
      if (++handled === 4) allHandled();
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const cases: [number, number][] = [[0, data.length], [777, 3 << 20], [0, 0], [data.length - 10, 10]];
      for (const [i, [start, length]] of cases.entries()) {
        const { res, body } = await get(srv.port, `/${start}-${length}`, agent);
        assert.strictEqual(res.statusCode, 200);
        assert.ok(body.equals(data.subarray(start, start + length)), `bytes of ${start}+${length}`);
        if (i > 0) assert.strictEqual((res as http.IncomingMessage & { req: { reusedSocket: boolean } }).req.reusedSocket, true, 'keep-alive: the same socket');
      }
      await handlersDone;
      assert.deepStrictEqual(results, cases.map(([, l]) => l));
    } finally {
      agent.destroy();
    }
  });

  it('pipelined requests: the second response, which has no socket until the first ends, waits for it; both bodies in order', async () => {
    const p = path.join(dir, 'pipelined');
    const data = crypto.randomBytes(3 << 20);
    fs.writeFileSync(p, data);
    const sockets: (net.Socket | null)[] = [];
    srv.set(async (req, res) => {
      const [start, length] = (req.url ?? '/').slice(1).split('-').map(Number);
      res.writeHead(200, { 'content-length': length });
      sockets.push(res.socket);
      await kaio.sendFile(res, p, { start, length });
      res.end();
    });
    const client = net.connect(srv.port, '127.0.0.1');
    client.write('GET /5-2000000 HTTP/1.1\r\nHost: x\r\n\r\nGET /7-1000000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const chunks: Buffer[] = [];
    client.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((resolve) => client.once('close', resolve));
    const all = Buffer.concat(chunks);
    const h1 = all.indexOf('\r\n\r\n') + 4;
    assert.ok(all.subarray(h1, h1 + 2000000).equals(data.subarray(5, 2000005)), 'the first body');
    const rest = all.subarray(h1 + 2000000);
    assert.ok(rest.subarray(0, 9).toString() === 'HTTP/1.1 ', `the second head follows: ${rest.subarray(0, 20).toString()}`);
    const h2 = rest.indexOf('\r\n\r\n') + 4;
    assert.ok(rest.subarray(h2).equals(data.subarray(7, 1000007)), 'the second body, and nothing more');
    assert.strictEqual(sockets[1], null, 'the second response had no socket when its handler ran');
  });

  it('the client leaving mid-file: sendFile rejects (ERR_KAIO_SOCKET_CLOSED, EPIPE or ECONNRESET) with bytesSent short, and the server serves on', async () => {
    const p = path.join(dir, 'big');
    const size = socketBufferBound() + (8 << 20);
    fs.writeFileSync(p, Buffer.alloc(size, 0x5a));
    let failed: (e: unknown) => void;
    const failure = new Promise<unknown>((resolve) => { failed = resolve; });
    srv.set(async (_req, res) => {
      res.writeHead(200, { 'content-length': size });
      res.flushHeaders();
      try {
        await kaio.sendFile(res.socket!, p);
        failed(new Error('sendFile resolved'));
      } catch (e) {
        failed(e);
        res.destroy();
      }
    });
    const client = net.connect(srv.port, '127.0.0.1');
    client.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => client.once('data', resolve));
    client.destroy();
    const e = (await failure) as kaio.SendFileError;
    assert.ok(['ERR_KAIO_SOCKET_CLOSED', 'EPIPE', 'ECONNRESET'].includes(e.code), `code ${e.code}: ${e.message}`);
    assert.ok(typeof e.bytesSent === 'number' && e.bytesSent < size, `bytesSent ${e.bytesSent}`);
    // The server goes on: a new request is served whole.
    const small = path.join(dir, 'small');
    fs.writeFileSync(small, 'after the reset');
    srv.set(async (_req, res) => {
      res.writeHead(200, { 'content-length': 15 });
      res.flushHeaders();
      await kaio.sendFile(res.socket!, small);
      res.end();
    });
    const agent = new http.Agent({ keepAlive: false });
    const { body } = await get(srv.port, '/small', agent);
    assert.strictEqual(body.toString(), 'after the reset');
  });

  it('the file cut short during the send: ERR_KAIO_FILE_TRUNCATED with bytesSent, and the client sees a short body', async () => {
    const p = path.join(dir, 'shrinks');
    // More than the pipe and both socket buffers hold: the send cannot have
    // read the file to its end while the client does not read.
    const size = socketBufferBound() + (8 << 20);
    fs.writeFileSync(p, Buffer.alloc(size, 0x33));
    let failed: (e: unknown) => void;
    const failure = new Promise<unknown>((resolve) => { failed = resolve; });
    srv.set(async (_req, res) => {
      res.writeHead(200, { 'content-length': size });
      res.flushHeaders();
      try {
        // The length asked for is the size: a send that starts after the truncation fails the same way.
        await kaio.sendFile(res.socket!, p, { length: size });
        failed(new Error('sendFile resolved'));
      } catch (e) {
        failed(e);
        res.destroy();
      }
    });
    const client = net.connect(srv.port, '127.0.0.1');
    client.write('GET /shrinks HTTP/1.1\r\nHost: x\r\n\r\n');
    let got = 0;
    const closed = new Promise((resolve) => client.once('close', resolve));
    // Some of the body has come: stop reading, cut the file, read on.
    await new Promise<void>((resolve) => {
      const onData = (c: Buffer): void => {
        got += c.length;
        if (got < (256 << 10)) return;
        client.off('data', onData);
        client.pause();
        resolve();
      };
      client.on('data', onData);
    });
    fs.truncateSync(p, 1 << 20);
    client.on('data', (c: Buffer) => { got += c.length; });
    client.resume();
    const e = (await failure) as kaio.SendFileError;
    assert.strictEqual(e.code, 'ERR_KAIO_FILE_TRUNCATED', e.message);
    assert.ok(e.bytesSent < size, `bytesSent ${e.bytesSent}`);
    await closed;
    assert.ok(got < size, `the client got ${got} bytes of ${size}`);
  });

  it('the file cut while its bytes wait in the pipe (the socket full): what goes out is the file\'s bytes up to the cut, never the zeros the cut leaves in those pages, and the send fails with ERR_KAIO_FILE_TRUNCATED', async () => {
    // A Unix socket (a small buffer) whose peer does not read: the file
    // (no more than one pipe) is in the pipe after the first splice pair,
    // and most of it stays there. A truncate to an offset inside a page
    // zeroes that page past it, in the pipe too (the pipe holds the page
    // cache's pages); the old code sent those zeros and resolved the size.
    const ring = new kaio.Ring({ entries: 8 });
    const sockPath = path.join(dir, 'cut.sock');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(sockPath, resolve));
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = net.connect(sockPath);
    client.pause();
    const sock = await accepted;
    const p = path.join(dir, 'cut-in-pipe');
    const size = 1 << 20;
    const cut = size - 5000;
    fs.writeFileSync(p, Buffer.alloc(size, 0x61));
    const chunks: Buffer[] = [];
    try {
      const sending = kaio.sendFile(sock, p, { context: ring }).then((n) => n, (e: unknown) => e);
      // The first splice pair (file -> pipe, pipe -> socket) has completed: the file is in the pipe and the socket.
      while (ring.stats.completed < 2) await new Promise((resolve) => setImmediate(resolve));
      fs.truncateSync(p, cut);
      client.on('data', (c: Buffer) => chunks.push(c));
      client.resume();
      const r = await sending;
      const got = Buffer.concat(chunks);
      const e = r as kaio.SendFileError;
      assert.strictEqual(e.code, 'ERR_KAIO_FILE_TRUNCATED', `sendFile resolved ${String(r)}`);
      assert.strictEqual(e.bytesSent, cut);
      sock.destroy();
      await new Promise((resolve) => client.once('close', resolve));
      const all = Buffer.concat(chunks);
      assert.ok(got.length <= cut && all.length === cut, `the client got ${all.length} bytes; the file has ${cut}`);
      assert.strictEqual(all.indexOf(0), -1, `a zero at ${all.indexOf(0)}: bytes that were never the file's`);
    } finally {
      client.destroy();
      sock.destroy();
      server.close();
      await ring.close();
    }
  });

  it('bad arguments fail before the kernel with Node\'s codes; a closed socket or FileHandle is refused', async () => {
    const p = path.join(dir, 'args');
    fs.writeFileSync(p, 'abc');
    const sock = new net.Socket();
    await assert.rejects(kaio.sendFile({} as net.Socket, p), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(kaio.sendFile(new http.IncomingMessage(sock) as unknown as net.Socket, p), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(kaio.sendFile(sock, 5 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(kaio.sendFile(sock, p, { start: -1 }), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(kaio.sendFile(sock, p, { length: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(kaio.sendFile(sock, p, { strat: 1 } as kaio.SendFileOptions), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(kaio.sendFile(sock, p, { context: {} as kaio.Ring }), { code: 'ERR_INVALID_ARG_TYPE' });
    // A socket never connected (no fd), and one destroyed.
    await assert.rejects(kaio.sendFile(sock, p), { code: 'ERR_KAIO_SOCKET_CLOSED' });
    const client = net.connect(srv.port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    const fh = await kaio.open(p, 'r');
    await fh.close();
    await assert.rejects(kaio.sendFile(client, fh), { code: 'EBADF' });
    await assert.rejects(kaio.sendFile(client, path.join(dir, 'missing')), { code: 'ENOENT' });
    await assert.rejects(kaio.sendFile(client, p, { start: 4 }), { code: 'ERR_OUT_OF_RANGE' });
    // Under TLS the bytes would bypass the encryption: refused.
    await assert.rejects(kaio.sendFile(new tls.TLSSocket(client), p), { code: 'ERR_KAIO_UNSUPPORTED' });
    client.destroy();
    await assert.rejects(kaio.sendFile(client, p), { code: 'ERR_KAIO_SOCKET_CLOSED' });
  });
});
