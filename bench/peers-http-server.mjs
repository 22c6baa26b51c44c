// One static file server of bench/peers-http.js, run by node, Bun or Deno:
//   <runtime> peers-http-server.mjs <api> <params-json>
// serves GET /<name> from params.dir (names without '/'), 404 otherwise, and
// prints one line `listening <port>` once it listens on 127.0.0.1 (port 0:
// the kernel's choice). Every response carries Content-Length. APIs:
//   node-readfile  node:http, node:fs/promises readFile, res.end(buffer)
//   node-stream    node:http, fs.promises.open + stat + createReadStream piped to res
//   kaio-readfile  node:http, kaio.readFile
//   kaio-stream    node:http, kaio.open + stat + FileHandle#createReadStream piped to res
//   kaio-sendfile  node:http, kaio/fs/promises stat, kaio.sendFile(res, path) (splice), res.end()
//   node-memory    node:http, the file's bytes from a Map filled on first use (node:http's own cost: the ceiling of any node cell)
//   bun            Bun.serve, new Response(Bun.file(path))
//   deno-readfile  Deno.serve, Deno.readFile
//   deno-stream    Deno.serve, Deno.open + stat, the file's readable as the body
import process from 'node:process';
import { createRequire } from 'node:module';

const [api, paramsArg] = process.argv.slice(2);
const P = JSON.parse(paramsArg);
const dir = P.dir;
const nameOf = (url) => {
  const q = url.indexOf('?');
  const name = (q < 0 ? url : url.slice(0, q)).slice(1);
  return name && !name.includes('/') && !name.startsWith('.') ? name : undefined;
};
const notFound = (res) => { res.writeHead(404, { 'content-length': 0 }); res.end(); };

async function nodeServer() {
  const http = await import('node:http');
  const fsp = (await import('node:fs/promises')).default;
  const { pipeline } = await import('node:stream');
  const kaio = api.startsWith('kaio') ? createRequire(import.meta.url)(P.kaioPath) : undefined;
  const readFile = api === 'kaio-readfile' ? kaio.readFile : fsp.readFile;
  const open = api === 'kaio-stream' ? kaio.open : fsp.open;
  const handlers = {
    'node-readfile': async (p, res) => {
      const data = await readFile(p);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
      res.end(data);
    },
    'node-stream': async (p, res) => {
      const fh = await open(p, 'r');
      let size;
      try {
        size = (await fh.stat()).size;
      } catch (e) {
        await fh.close();
        throw e;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      // The stream closes the handle (autoClose) when it ends or fails.
      pipeline(fh.createReadStream(), res, () => {});
    },
  };
  if (api === 'kaio-sendfile') {
    const kfsp = createRequire(import.meta.url)(`${P.kaioPath}/fs/promises`);
    handlers['kaio-sendfile'] = async (p, res) => {
      const { size } = await kfsp.stat(p);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      try {
        await kaio.sendFile(res, p, { length: size });
      } catch (e) {
        // Shorter than its Content-Length: the connection cannot go on.
        res.destroy();
        return;
      }
      res.end();
    };
  }
  const cache = new Map();
  handlers['node-memory'] = async (p, res) => {
    let data = cache.get(p);
    if (!data) cache.set(p, (data = await fsp.readFile(p)));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
    res.end(data);
  };
  handlers['kaio-readfile'] = handlers['node-readfile'];
  handlers['kaio-stream'] = handlers['node-stream'];
  const handle = handlers[api];
  const server = http.createServer((req, res) => {
    const name = nameOf(req.url);
    if (!name) return notFound(res);
    handle(`${dir}/${name}`, res).catch(() => { if (!res.headersSent) notFound(res); else res.destroy(); });
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}

function bunServer() {
  const server = globalThis.Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const name = nameOf(new URL(req.url).pathname);
      if (!name) return new Response(null, { status: 404 });
      const f = globalThis.Bun.file(`${dir}/${name}`);
      if (!(await f.exists())) return new Response(null, { status: 404 });
      return new Response(f, { headers: { 'content-type': 'application/octet-stream' } });
    },
  });
  console.log(`listening ${server.port}`);
}

function denoServer() {
  const D = globalThis.Deno;
  D.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`listening ${port}`) }, async (req) => {
    const name = nameOf(new URL(req.url).pathname);
    if (!name) return new Response(null, { status: 404 });
    const p = `${dir}/${name}`;
    try {
      if (api === 'deno-readfile') {
        const data = await D.readFile(p);
        return new Response(data, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) } });
      }
      const f = await D.open(p, { read: true });
      const { size } = await f.stat();
      return new Response(f.readable, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) } });
    } catch {
      return new Response(null, { status: 404 });
    }
  });
}

if (api === 'bun') bunServer();
else if (api.startsWith('deno')) denoServer();
else await nodeServer();
