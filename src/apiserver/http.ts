// The HTTPS face of the API: authentication, body limits and decoding, content negotiation
// (JSON, server-side Tables), streaming watches, and the non-resource endpoints (discovery,
// OpenAPI, health, version). Every failure becomes a Kubernetes Status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseAllDocuments } from 'yaml';
import { errors, StatusError } from '../api/errors.js';
import { findDuplicateFields } from '../api/json-duplicates.js';
import { decodeKubernetesProtobuf } from '../api/protobuf.js';
import { apiVersionOfResource, type ResourceType } from '../api/kinds.js';
import { buildTable, parseIncludeObject } from '../api/printers/index.js';
import type { KubeObject, Status, WatchEventType } from '../api/types.js';
import { logger } from '../util/log.js';
import { aggregatedContentType, aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, wantsAggregated } from './discovery.js';
import type { Call, Reply } from './handler.js';
import { matchStreaming, type createNodeProxy } from './node-proxy.js';
import { openApiV3Document, openApiV3Root } from './openapi.js';
import { openApiV2Response } from './openapi-v2.js';
import { negotiate, parseApiPath, type Representation } from './request.js';
import type { CachedObject } from './watch-cache.js';

const log = logger('apiserver');

/** kube-apiserver's default limit for a request body (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface HttpDeps {
  handle(call: Call): Promise<Reply | undefined>;
  authenticate(token: string | undefined): boolean;
  version: object;
  serverAddress(): string;
  ready(): boolean;
  now(): number;
  /** Serves pods/log (and refuses exec/attach/portforward without an upgrade) by proxying to the node. */
  nodeProxy?: ReturnType<typeof createNodeProxy>;
}

const PUBLIC_PATHS = /^\/(healthz|livez|readyz|version)(\/.*)?$/;

function isCached(o: KubeObject | CachedObject): o is CachedObject {
  return typeof (o as CachedObject).json === 'string' && (o as CachedObject).key !== undefined;
}

function send(res: ServerResponse, status: number, body: string, contentType = 'application/json', headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private', ...headers });
  res.end(body);
}

function sendStatus(res: ServerResponse, s: Status): void {
  send(res, s.code, JSON.stringify(s));
}

function warningHeaders(w: string[] | undefined): Record<string, string[]> {
  return w?.length ? { Warning: w.map((m) => `299 - ${JSON.stringify(m)}`) } : {};
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw errors.tooLarge(MAX_BODY_BYTES);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY_BYTES) throw errors.tooLarge(MAX_BODY_BYTES);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

const JSON_TYPES = new Set(['application/json', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
const YAML_TYPES = new Set(['application/yaml', 'application/apply-patch+yaml']);

/** Decodes a request body by its media type; returns the value and any duplicate fields found. */
export function decodeBody(raw: Buffer, contentType: string | undefined, method: string): { body: unknown; duplicates: string[] } {
  if (raw.length === 0) return { body: undefined, duplicates: [] };
  const media = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  // client-go's typed clients (kubectl create/expose/run…) send protobuf and never retry as JSON.
  if (media === 'application/vnd.kubernetes.protobuf') return { body: decodeKubernetesProtobuf(raw).object, duplicates: [] };
  const text = raw.toString('utf8');
  if (JSON_TYPES.has(media) || (media === 'application/apply-patch+yaml' && /^\s*[[{]/.test(text))) {
    try {
      return { body: JSON.parse(text), duplicates: findDuplicateFields(text) };
    } catch (e) {
      if (media === 'application/apply-patch+yaml') return decodeYaml(text);
      throw errors.badRequest(`the request body could not be decoded: json parse error: ${(e as Error).message}`);
    }
  }
  if (YAML_TYPES.has(media)) return decodeYaml(text);
  const accepted = method === 'PATCH' ? ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml', 'application/strategic-merge-patch+json'] : ['application/json', 'application/yaml'];
  throw errors.unsupportedMediaType(media, accepted);
}

function decodeYaml(text: string): { body: unknown; duplicates: string[] } {
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const first = list[0];
  if (!first) return { body: undefined, duplicates: [] };
  const bad = first.errors[0];
  if (bad) throw errors.badRequest(`the request body could not be decoded: yaml: ${bad.message.split('\n')[0]}`);
  return { body: first.toJS({ maxAliasCount: 100 }), duplicates: [] };
}

export function createHttpHandler(deps: HttpDeps) {
  function tableOf(rt: ResourceType, objs: KubeObject[], query: URLSearchParams, rv: string, more: { continue?: string; noHeaders?: boolean } = {}): string {
    return JSON.stringify(buildTable(rt, objs, { now: deps.now(), includeObject: parseIncludeObject(query.get('includeObject')), resourceVersion: rv, ...more }));
  }

  function objectJson(o: KubeObject | CachedObject): string {
    return isCached(o) ? o.json : JSON.stringify(o);
  }

  function encodeReply(res: ServerResponse, reply: Reply, repr: Representation, query: URLSearchParams): void {
    switch (reply.type) {
      case 'status':
        return send(res, reply.status, JSON.stringify(reply.body), 'application/json', warningHeaders(reply.warnings));
      case 'plain':
        return send(res, reply.status, JSON.stringify(reply.body));
      case 'object': {
        const obj = isCached(reply.obj) ? reply.obj.obj : reply.obj;
        const body = repr === 'table' ? tableOf(reply.rt, [obj], query, obj.metadata.resourceVersion ?? '') : objectJson(reply.obj);
        return send(res, reply.status, body, 'application/json', warningHeaders(reply.warnings));
      }
      case 'list': {
        const { rt, outcome } = reply;
        const rv = String(outcome.rev);
        if (repr === 'table') return send(res, 200, tableOf(rt, outcome.items.map((i) => i.obj), query, rv, outcome.continue ? { continue: outcome.continue } : {}));
        const meta = JSON.stringify({
          resourceVersion: rv,
          ...(outcome.continue ? { continue: outcome.continue } : {}),
          ...(outcome.remainingItemCount !== undefined ? { remainingItemCount: outcome.remainingItemCount } : {}),
        });
        const body = `{"kind":"${rt.listKind}","apiVersion":"${apiVersionOfResource(rt)}","metadata":${meta},"items":[${outcome.items.map((i) => i.json).join(',')}]}`;
        return send(res, 200, body);
      }
      case 'watch':
        return;
    }
  }

  async function serveWatch(req: IncomingMessage, res: ServerResponse, reply: Extract<Reply, { type: 'watch' }>, repr: Representation, query: URLSearchParams): Promise<void> {
    let headersSent = false;
    const open = () => {
      if (headersSent) return;
      headersSent = true;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
    };
    let headersShown = false;
    const line = (type: WatchEventType, o: CachedObject | KubeObject): string => {
      if (repr === 'table' && type !== 'BOOKMARK' && type !== 'ERROR') {
        const obj = isCached(o) ? o.obj : o;
        // column definitions go with the first event only, as kube-apiserver sends them
        const table = tableOf(reply.rt, [obj], query, obj.metadata.resourceVersion ?? '', { noHeaders: headersShown });
        headersShown = true;
        return `{"type":"${type}","object":${table}}\n`;
      }
      return `{"type":"${type}","object":${objectJson(o)}}\n`;
    };
    let stop: (() => void) | undefined;
    // Stop when the client goes away (the response closes), not when the request body ends.
    res.on('close', () => stop?.());
    stop = await reply.start({
      event(type, o) {
        open();
        res.write(line(type, o));
      },
      end() {
        open();
        res.end();
      },
    });
    if (res.destroyed) stop();
    else open();
  }

  async function nonResource(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<boolean> {
    const accept = req.headers.accept;
    if (path === '/version') return send(res, 200, JSON.stringify(deps.version)), true;
    const health = /^\/(healthz|livez|readyz)(\/.*)?$/.exec(path);
    if (health) {
      const ok = health[1] !== 'readyz' || deps.ready();
      if (query.has('verbose')) {
        const checks = ['ping', 'log', 'etcd', 'poststarthook/start-apiserver'].map((c) => `[+]${c} ok`);
        if (health[1] === 'readyz') checks.push(`[${ok ? '+' : '-'}]informer-sync ${ok ? 'ok' : 'failed: reason withheld'}`);
        send(res, ok ? 200 : 500, `${checks.join('\n')}\n${health[1]} check ${ok ? 'passed' : 'failed'}\n`, 'text/plain; charset=utf-8');
      } else send(res, ok ? 200 : 500, ok ? 'ok' : `[-]informer-sync failed: reason withheld\n${health[1]} check failed`, 'text/plain; charset=utf-8');
      return true;
    }
    if (path === '/api' || path === '/apis') {
      const agg = wantsAggregated(accept);
      if (agg) send(res, 200, JSON.stringify(aggregatedDiscovery(agg, path === '/api')), aggregatedContentType(agg));
      else send(res, 200, JSON.stringify(path === '/api' ? apiVersions(deps.serverAddress()) : apiGroupList()));
      return true;
    }
    const gv = parseApiPath(path);
    if (gv.type === 'groupVersion') {
      const list = apiResourceList(gv.group, gv.version);
      if (!list) return false;
      send(res, 200, JSON.stringify(list));
      return true;
    }
    const g = /^\/apis\/([^/]+)\/?$/.exec(path);
    if (g) {
      const group = apiGroup(g[1]!);
      if (!group) return false;
      send(res, 200, JSON.stringify(group));
      return true;
    }
    if (path === '/openapi/v2') {
      const r = openApiV2Response(accept, req.headers['if-none-match']);
      res.writeHead(r.status, r.headers);
      res.end(r.body);
      return true;
    }
    if (path === '/openapi/v3' || path === '/openapi/v3/') {
      const root = openApiV3Root();
      send(res, 200, root.body, 'application/json', { ETag: `"${root.etag}"` });
      return true;
    }
    if (path.startsWith('/openapi/v3/')) {
      const doc = openApiV3Document(path.slice('/openapi/v3/'.length));
      if (!doc) return false;
      if (req.headers['if-none-match'] === `"${doc.etag}"`) {
        res.writeHead(304, { ETag: `"${doc.etag}"` });
        res.end();
        return true;
      }
      send(res, 200, doc.body, 'application/json', { ETag: `"${doc.etag}"`, 'Cache-Control': query.has('hash') ? 'public, immutable' : 'no-cache, private' });
      return true;
    }
    return false;
  }

  return async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://skiff');
    const path = url.pathname;
    const query = url.searchParams;
    try {
      if (!PUBLIC_PATHS.test(path)) {
        const auth = req.headers.authorization;
        const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
        if (!deps.authenticate(token)) throw errors.unauthorized();
      }
      const method = (req.method ?? 'GET').toUpperCase();
      const streamed = deps.nodeProxy && matchStreaming(path);
      if (streamed) return await deps.nodeProxy!.serve(req, res, streamed, query);
      if (method === 'GET' && (await nonResource(req, res, path, query))) return;
      const raw = method === 'GET' ? Buffer.alloc(0) : await readBody(req);
      const { body, duplicates } = decodeBody(raw, req.headers['content-type'], method);
      const call: Call = {
        method,
        path,
        query,
        body,
        bodyOwned: true,
        ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
        ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
        ...(duplicates.length ? { duplicateFields: duplicates } : {}),
      };
      const reply = await deps.handle(call);
      if (!reply) {
        send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
        return;
      }
      const repr = negotiate(req.headers.accept);
      if (reply.type === 'watch') await serveWatch(req, res, reply, repr, query);
      else encodeReply(res, reply, repr, query);
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof StatusError) return sendStatus(res, e.status);
      log.error('request failed', { method: req.method, path, err: (e as Error).stack ?? String(e) });
      sendStatus(res, errors.internal((e as Error).message ?? String(e)).status);
    }
  };
}
