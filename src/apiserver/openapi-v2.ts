// GET /openapi/v2: one Swagger 2.0 document for every served kind, as kube-apiserver publishes
// it. kubectl 1.27 and 1.28 download it (as protobuf, gnostic's openapi_v2.Document) before
// apply/create to validate on the client, to compute strategic merge patches, and for explain;
// without it they fail. Newer kubectls use /openapi/v3 instead (openapi.ts).
//
// The document is derived from the same sources as the v3 ones, so both always agree: the
// definitions are our OpenAPI v3 component schemas turned back into Swagger 2.0 the way
// kube-openapi writes them, and the paths are the v3 documents' operations.
import { createHash } from 'node:crypto';
import { allSchemas, type JsonSchema } from '../api/schema.js';
import { encodeGnosticDocument } from './gnostic.js';
import { OPENAPI_INFO, openApiV3Document, openApiV3Root } from './openapi.js';

/** The media type of the protobuf document. client-go asks for the older spelling with `@`
 *  (OPENAPI_V2_PROTOBUF_ACCEPT); kube-openapi answers with this one because `@` is not legal in a
 *  media type: echoed back, it makes Go's mime.ParseMediaType, hence kubectl, fail. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
/** What client-go's DiscoveryClient.OpenAPISchema() sends as Accept. */
export const OPENAPI_V2_PROTOBUF_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

export interface OpenApiV2 {
  /** The document as gnostic's `openapi_v2.Document` protobuf message (what client-go parses). */
  protobuf: Buffer;
  /** The document as Swagger 2.0 JSON. */
  json: string;
  /** Upper-case hex SHA-512 of `json`. kube-openapi sends it (quoted) as the ETag of both
   *  representations, relying on `Vary: Accept`. */
  etag: string;
}

type Obj = Record<string, unknown>;

const V3_REF = '#/components/schemas/';
const V2_REF = '#/definitions/';
const SMP = 'application/strategic-merge-patch+json';

let built: (OpenApiV2 & { jsonBytes: Buffer }) | undefined;

/** The /openapi/v2 document in both representations; built on first call, then cached (the
 *  served kinds never change while the process runs). Callers must not modify it. Throws like
 *  allSchemas() when `npm run build` never generated the schemas. */
export function openApiV2(): OpenApiV2 {
  if (built) return built;
  const doc = swaggerDocument();
  const json = JSON.stringify(doc);
  const protobuf = encodeGnosticDocument(doc);
  const jsonBytes = Buffer.from(json);
  built = { protobuf, json, jsonBytes, etag: createHash('sha512').update(jsonBytes).digest('hex').toUpperCase() };
  return built;
}

/** The Swagger 2.0 document as a plain JSON value. */
export function swaggerDocument(): Obj {
  const schemas = allSchemas();
  const definitions = Object.fromEntries(
    Object.keys(schemas)
      .sort()
      .map((name) => [name, toV2Schema(schemas[name]!)]),
  );
  return {
    swagger: '2.0',
    info: { ...OPENAPI_INFO },
    paths: v2Paths(),
    definitions,
    securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } },
    security: [{ BearerToken: [] }],
  };
}

// ---- definitions ------------------------------------------------------------------------

/** One schema in Swagger 2.0 form, as kube-openapi writes its v2 definitions: `$ref`s point
 *  into `#/definitions/`; a v3 `allOf: [{$ref}]` wrapper (there only so a description can sit
 *  beside the reference) becomes the `$ref` itself with the wrapper's description and
 *  extensions beside it; `oneOf` alternatives (IntOrString, Quantity), which Swagger 2.0 lacks,
 *  become `type: string` as upstream's v2 definitions declare them. */
export function toV2Schema(s: JsonSchema): JsonSchema {
  let src: JsonSchema = s;
  const only = s.allOf?.length === 1 ? s.allOf[0]! : undefined;
  if (only?.$ref && Object.keys(only).length === 1 && !s.type && !s.properties) {
    const { allOf: _wrapped, ...rest } = s;
    src = { $ref: only.$ref, ...rest };
  }
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(src)) {
    switch (k) {
      case '$ref':
        out.$ref = String(v).startsWith(V3_REF) ? V2_REF + String(v).slice(V3_REF.length) : String(v);
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(v as Record<string, JsonSchema>).map(([n, p]) => [n, toV2Schema(p)]));
        break;
      case 'items':
        out.items = toV2Schema(v as JsonSchema);
        break;
      case 'additionalProperties':
        out.additionalProperties = typeof v === 'boolean' ? v : toV2Schema(v as JsonSchema);
        break;
      case 'allOf':
        out.allOf = (v as JsonSchema[]).map(toV2Schema);
        break;
      case 'oneOf':
        out.type ??= 'string';
        break;
      case 'x-kubernetes-int-or-string': // a v3-only marker; v2 says format: int-or-string
        break;
      default:
        out[k] = v;
    }
  }
  return out;
}

// ---- paths ------------------------------------------------------------------------------

interface V3Param {
  name: string;
  in: string;
  description?: string;
  required?: boolean;
  schema?: { type?: string; uniqueItems?: boolean };
}

type V3Content = Record<string, { schema?: JsonSchema }>;

/** Every path of every /openapi/v3 group/version document, in Swagger 2.0 form, sorted. */
function v2Paths(): Obj {
  const root = JSON.parse(openApiV3Root().body) as { paths: Record<string, unknown> };
  const paths: Obj = {};
  for (const key of Object.keys(root.paths)) {
    const doc = JSON.parse(openApiV3Document(key)!.body) as { paths: Record<string, Obj> };
    for (const [p, item] of Object.entries(doc.paths)) paths[p] = v2PathItem(item);
  }
  return Object.fromEntries(
    Object.keys(paths)
      .sort()
      .map((p) => [p, paths[p]]),
  );
}

function v2PathItem(item: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(item)) out[k] = k === 'parameters' ? (v as V3Param[]).map(v2Param) : v2Operation(k, v as Obj);
  return out;
}

function v2Param(p: V3Param): Obj {
  return {
    ...(p.description !== undefined ? { description: p.description } : {}),
    in: p.in,
    name: p.name,
    ...(p.required ? { required: true } : {}),
    ...(p.schema?.type ? { type: p.schema.type } : {}),
    ...(p.schema?.uniqueItems ? { uniqueItems: true } : {}),
  };
}

const firstSchema = (c: V3Content | undefined) => Object.values(c ?? {})[0]?.schema;

/** A v3 operation in v2 form: the request body becomes the `body` parameter (first, as
 *  upstream), content types become `consumes`/`produces`. PATCH also consumes strategic merge
 *  patches, as kube-apiserver's v2 document says (the server accepts them; kubectl 1.27/1.28
 *  compute them from these definitions, v3 clients from their compiled-in types). */
function v2Operation(verb: string, op: Obj): Obj {
  const body = op.requestBody as { content?: V3Content; required?: boolean } | undefined;
  const bodySchema = firstSchema(body?.content);
  const params = [
    ...(bodySchema ? [{ in: 'body', name: 'body', ...(body?.required ? { required: true } : {}), schema: toV2Schema(bodySchema) }] : []),
    ...((op.parameters as V3Param[] | undefined) ?? []).map(v2Param),
  ];
  const consumes = body?.content ? Object.keys(body.content) : ['*/*'];
  if (verb === 'patch' && !consumes.includes(SMP)) consumes.push(SMP);
  const produces = new Set<string>();
  const responses: Obj = {};
  for (const [code, r] of Object.entries(op.responses as Record<string, { description: string; content?: V3Content }>)) {
    Object.keys(r.content ?? {}).forEach((t) => produces.add(t));
    const schema = firstSchema(r.content);
    responses[code] = { description: r.description, ...(schema ? { schema: toV2Schema(schema) } : {}) };
  }
  const out: Obj = { consumes, description: op.description, operationId: op.operationId };
  if (params.length) out.parameters = params;
  out.produces = produces.size ? [...produces] : ['application/json'];
  out.responses = responses;
  out.schemes = ['https'];
  for (const [k, v] of Object.entries(op)) if (k === 'tags' || k.startsWith('x-')) out[k] = v;
  return out;
}

// ---- HTTP -------------------------------------------------------------------------------

/** What an answer to GET /openapi/v2 is: status, headers, and the body (absent for 304/406). */
export interface OpenApiV2Response {
  status: 200 | 304 | 406;
  headers: Record<string, string>;
  body?: Buffer;
}

/** Which representation kube-openapi's handler serves for an Accept header: the first clause
 *  (by q, then specificity, then order) that names `application/json`, the protobuf type (either
 *  spelling), or a wildcard; JSON for wildcards and a missing header; undefined (406) when
 *  nothing matches. */
export function negotiateOpenApiV2(accept: string | undefined): 'json' | 'protobuf' | undefined {
  const clauses = (accept?.trim() ? accept : '*/*')
    .split(',')
    .map((raw, i) => {
      const [range = '', ...params] = raw.split(';').map((x) => x.trim());
      const q = params.find((p) => /^q=/i.test(p));
      const [type = '', sub = ''] = range.toLowerCase().split('/');
      return { type, sub, q: q ? Number(q.slice(2)) : 1, i };
    })
    .filter((c) => c.type && c.sub && c.q > 0)
    .sort((a, b) => b.q - a.q || specificity(b) - specificity(a) || a.i - b.i);
  const protobufSubs = [OPENAPI_V2_PROTOBUF_ACCEPT, OPENAPI_V2_PROTOBUF].map((t) => t.split('/')[1]!);
  for (const c of clauses) {
    if (c.type !== 'application' && c.type !== '*') continue;
    if (c.sub === 'json' || c.sub === '*') return 'json';
    if (protobufSubs.includes(c.sub)) return 'protobuf';
  }
  return undefined;
}

const specificity = (c: { type: string; sub: string }) => (c.type === '*' ? 0 : c.sub === '*' ? 1 : 2);

/** The answer to GET /openapi/v2 given the request's Accept and If-None-Match headers:
 *  the negotiated representation with its quoted ETag, 304 when If-None-Match names that
 *  ETag (or `*`), 406 when the Accept header allows neither representation. */
export function openApiV2Response(accept: string | undefined, ifNoneMatch: string | undefined): OpenApiV2Response {
  const format = negotiateOpenApiV2(accept);
  if (!format) return { status: 406, headers: { Vary: 'Accept', 'Content-Length': '0' } };
  openApiV2();
  const b = built!;
  const [body, contentType] = format === 'protobuf' ? [b.protobuf, OPENAPI_V2_PROTOBUF] : [b.jsonBytes, 'application/json'];
  const etag = `"${b.etag}"`;
  const headers: Record<string, string> = { ETag: etag, Vary: 'Accept', 'Cache-Control': 'no-cache, private' };
  const tags = ifNoneMatch?.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (tags?.some((t) => t === etag || t === '*')) return { status: 304, headers };
  return { status: 200, headers: { ...headers, 'Content-Type': contentType, 'Content-Length': String(body.length) }, body };
}
