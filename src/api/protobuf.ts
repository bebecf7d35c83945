// Decoding of `application/vnd.kubernetes.protobuf` request bodies into the JSON form of the
// object. client-go (and so kubectl's typed commands: create configmap|secret|deployment|job…,
// expose, run) sends protobuf and never falls back to JSON, so every body it may send must decode
// here into exactly the object Kubernetes' JSON serializer would have produced from it.
//
// Wire format (k8s.io/apimachinery runtime/serializer/protobuf): the 4 magic bytes `k8s\0`, then a
// `runtime.Unknown` {typeMeta{apiVersion, kind}, raw, contentEncoding, contentType} whose `raw` is
// the object encoded per its group's generated.proto. The schemas are the vendored, unchanged
// .proto files under vendor/k8s-proto (see vendor/k8s-proto/SOURCES.md); they are parsed once, on
// first use, so processes that never see protobuf pay nothing.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { errors } from './errors.js';
import { INLINE_FIELDS, isPointerField, shortTypeName } from './protobuf-json-shape.js';

/** The decoded body: the envelope's type and the object in its Kubernetes JSON form. */
export interface DecodedProtobuf {
  apiVersion: string;
  kind: string;
  /** A fresh object owned by the caller; `kind` and `apiVersion` are set from the envelope. */
  object: Record<string, unknown>;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const PROTO_ROOT = fileURLToPath(new URL('../../vendor/k8s-proto/', import.meta.url));

/** Proto files in dependency order: each file's imports come before it. */
const PROTO_FILES = [
  'k8s.io/apimachinery/pkg/runtime/generated.proto',
  'k8s.io/apimachinery/pkg/runtime/schema/generated.proto',
  'k8s.io/apimachinery/pkg/util/intstr/generated.proto',
  'k8s.io/apimachinery/pkg/api/resource/generated.proto',
  'k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto',
  'k8s.io/api/core/v1/generated.proto',
  'k8s.io/api/apps/v1/generated.proto',
  'k8s.io/api/batch/v1/generated.proto',
  'k8s.io/api/autoscaling/v1/generated.proto',
  'k8s.io/api/coordination/v1/generated.proto',
  'k8s.io/api/discovery/v1/generated.proto',
  'k8s.io/api/policy/v1/generated.proto',
];

/** API group/version -> proto package holding its kinds (only the vendored ones). */
const PACKAGES: Readonly<Record<string, string>> = {
  v1: 'k8s.io.api.core.v1',
  'apps/v1': 'k8s.io.api.apps.v1',
  'batch/v1': 'k8s.io.api.batch.v1',
  'autoscaling/v1': 'k8s.io.api.autoscaling.v1',
  'coordination.k8s.io/v1': 'k8s.io.api.coordination.v1',
  'discovery.k8s.io/v1': 'k8s.io.api.discovery.v1',
  'policy/v1': 'k8s.io.api.policy.v1',
};
const META_PACKAGE = 'k8s.io.apimachinery.pkg.apis.meta.v1';
/** Option kinds every group version registers (client-go sends DeleteOptions in the body). */
const META_KINDS = new Set(['DeleteOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions', 'GetOptions', 'ListOptions', 'Status']);

let cachedRoot: protobuf.Root | undefined;

/** The parsed schemas, loaded synchronously on first call and cached for the process. */
export function kubernetesProtoRoot(): protobuf.Root {
  if (cachedRoot) return cachedRoot;
  const root = new protobuf.Root();
  // keepCase: field names stay the JSON names; alternateCommentMode keeps `// +optional`.
  for (const file of PROTO_FILES) protobuf.parse(readFileSync(PROTO_ROOT + file, 'utf8'), root, { keepCase: true, alternateCommentMode: true });
  root.resolveAll();
  cachedRoot = root;
  return root;
}

/**
 * Decode a `application/vnd.kubernetes.protobuf` body. Throws a 400 StatusError naming the problem
 * for a body without the `k8s\0` prefix, a malformed message or an unknown kind, and a 415 for a
 * group whose schemas are not vendored; it never throws anything else.
 */
export function decodeKubernetesProtobuf(body: Buffer): DecodedProtobuf {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw errors.badRequest(`provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]`);
  }
  const root = kubernetesProtoRoot();
  const unknown = decodeMessage(root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown'), body.subarray(MAGIC.length));
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  if (!kind) throw errors.badRequest('Object \'Kind\' is missing in the protobuf body');
  if (unknown.contentEncoding) throw errors.badRequest(`unsupported content encoding "${String(unknown.contentEncoding)}" in the protobuf body`);
  const raw = (unknown.raw as Uint8Array | undefined) ?? new Uint8Array(0);
  const type = messageTypeFor(root, apiVersion, kind);
  const object = toJson(type, decodeMessage(type, raw));
  return { apiVersion, kind, object: { kind, apiVersion, ...object } };
}

function messageTypeFor(root: protobuf.Root, apiVersion: string, kind: string): protobuf.Type {
  const pkg = PACKAGES[apiVersion];
  const candidates = [pkg && `${pkg}.${kind}`, META_KINDS.has(kind) && `${META_PACKAGE}.${kind}`].filter((n): n is string => !!n);
  for (const name of candidates) {
    const found = root.lookup(name);
    if (found instanceof protobuf.Type) return found;
  }
  if (!pkg && !META_KINDS.has(kind)) {
    throw errors.unsupportedMediaType('application/vnd.kubernetes.protobuf', ['application/json', 'application/yaml']);
  }
  throw errors.badRequest(`no kind "${kind}" is registered for version "${apiVersion}"`);
}

function decodeMessage(type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> {
  try {
    return type.decode(bytes) as unknown as Record<string, unknown>;
  } catch (e) {
    throw errors.badRequest(`the protobuf body could not be decoded as ${shortTypeName(type.fullName)}: ${(e as Error).message}`);
  }
}

/** One decoded message -> its JSON object, following Go's encoding of the Kubernetes types. */
function toJson(type: protobuf.Type, msg: Record<string, unknown>): Record<string, unknown> {
  const typeName = shortTypeName(type.fullName);
  const inline = INLINE_FIELDS[typeName];
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(msg, field.name)) continue;
    const value = msg[field.name];
    if (field instanceof protobuf.MapField) {
      const entries = Object.entries((value ?? {}) as Record<string, unknown>);
      if (entries.length) out[field.name] = Object.fromEntries(entries.map(([k, v]) => [k, fieldValue(field, v)]));
      continue;
    }
    if (field.repeated) {
      const items = (value ?? []) as unknown[];
      if (items.length) out[field.name] = items.map((v) => fieldValue(field, v));
      continue;
    }
    const converted = fieldValue(field, value);
    if (field.name === inline && isPlainObject(converted)) {
      Object.assign(out, converted);
      continue;
    }
    if (isZeroScalar(converted) && /\+optional\b/.test(field.comment ?? '') && !isPointerField(typeName, field.name)) continue;
    out[field.name] = converted;
  }
  return out;
}

function fieldValue(field: protobuf.FieldBase, value: unknown): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return messageValue(resolved, value as Record<string, unknown>);
  if (resolved instanceof protobuf.Enum) return value;
  return scalarValue(field.type, value);
}

/** The well-known apimachinery types have a JSON form of their own (custom MarshalJSON in Go). */
function messageValue(type: protobuf.Type, msg: Record<string, unknown>): unknown {
  switch (shortTypeName(type.fullName)) {
    case 'meta.v1.Time':
      return timeJson(msg, false);
    case 'meta.v1.MicroTime':
      return timeJson(msg, true);
    case 'meta.v1.Duration':
      return goDuration(toNumber(msg.duration ?? 0));
    case 'meta.v1.FieldsV1':
      return rawJson(msg.Raw as Uint8Array | undefined);
    case 'meta.v1.Verbs':
      return ((msg.items ?? []) as string[]).slice();
    case 'resource.Quantity':
      return typeof msg.string === 'string' ? msg.string : '0';
    case 'intstr.IntOrString':
      return toNumber(msg.type ?? 0) === 1 ? (msg.strVal ?? '') : (msg.intVal ?? 0);
    case 'runtime.RawExtension':
      return rawJson(msg.raw as Uint8Array | undefined);
    default:
      return toJson(type, msg);
  }
}

function scalarValue(protoType: string, value: unknown): unknown {
  switch (protoType) {
    case 'bytes':
      return Buffer.from(value as Uint8Array).toString('base64');
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return toNumber(value);
    default:
      return value;
  }
}

/** metav1.Time drops sub-second precision on decode and prints RFC 3339 in UTC; MicroTime keeps µs. */
function timeJson(msg: Record<string, unknown>, micro: boolean): string | null {
  const hasSeconds = Object.prototype.hasOwnProperty.call(msg, 'seconds');
  const hasNanos = Object.prototype.hasOwnProperty.call(msg, 'nanos');
  if (!hasSeconds && !hasNanos) return null; // an empty Timestamp is Go's zero time: JSON null
  const seconds = toNumber(msg.seconds ?? 0);
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (!micro) return `${iso}Z`;
  const micros = Math.floor(Number(msg.nanos ?? 0) / 1000);
  return `${iso}.${String(micros).padStart(6, '0')}Z`;
}

function rawJson(raw: Uint8Array | undefined): unknown {
  if (!raw || raw.length === 0) return null;
  const text = Buffer.from(raw).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw errors.badRequest('the protobuf body embeds a raw object that is not JSON');
  }
}

/** Go's time.Duration.String(): "1h2m3.5s", "150ms", "0s". */
function goDuration(nanos: number): string {
  if (nanos === 0) return '0s';
  const sign = nanos < 0 ? '-' : '';
  let n = Math.abs(nanos);
  if (n < 1e9) {
    const [unit, div] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${sign}${trimFraction(n / div)}${unit}`;
  }
  const h = Math.floor(n / 3.6e12);
  n -= h * 3.6e12;
  const m = Math.floor(n / 6e10);
  n -= m * 6e10;
  const s = `${trimFraction(n / 1e9)}s`;
  return `${sign}${h ? `${h}h${m}m` : m ? `${m}m` : ''}${s}`;
}

function trimFraction(x: number): string {
  return String(Number(x.toFixed(9)));
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  if (value && typeof value === 'object' && 'toNumber' in value) return (value as { toNumber(): number }).toNumber();
  return Number(value ?? 0);
}

function isZeroScalar(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
