// Swagger 2.0 JSON → gnostic's `openapi_v2.Document` protobuf, the form client-go's
// OpenAPISchema() unmarshals (kube-openapi makes it with gnostic's ParseDocument + proto.Marshal).
// The message types come from the vendored gnostic OpenAPIv2.proto; the conversion walks them by
// reflection, so only the shapes gnostic gives special treatment are spelled out here: maps as
// repeated (name, value) pairs, `x-` keys as vendor_extension pairs, free-form values as
// `Any{yaml}` (YAML text, as gnostic stores them), and the oneof wrappers.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { stringify } from 'yaml';

const PROTO = fileURLToPath(new URL('../../vendor/gnostic/openapiv2/OpenAPIv2.proto', import.meta.url));

type Obj = Record<string, unknown>;
type Msg = Record<string, unknown>;

let root: protobuf.Root | undefined;

/** The gnostic openapi.v2 message types (loaded once; keepCase keeps the .proto field names). */
export function gnosticTypes(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root().loadSync(PROTO, { keepCase: true });
    root.resolveAll();
  }
  return root;
}

const type = (name: string) => gnosticTypes().lookupType(`openapi.v2.${name}`);

/** Encodes a Swagger 2.0 document (a JSON value) as an `openapi.v2.Document` message. Throws
 *  on a key the gnostic schema has no field for, so nothing is dropped silently. */
export function encodeGnosticDocument(doc: Obj): Buffer {
  const Document = type('Document');
  const bytes = Document.encode(message(Document, doc, 'document')).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes bytes made by encodeGnosticDocument (for tests and debugging): the message as a
 *  plain object with the .proto field names. */
export function decodeGnosticDocument(bytes: Uint8Array): Obj {
  const Document = type('Document');
  return Document.toObject(Document.decode(bytes), { defaults: false, arrays: true }) as Obj;
}

/** A value as gnostic's Any holds it: YAML text. YAML 1.1 quoting, since the Go readers
 *  (yaml.v2) would take an unquoted `yes`/`on` for a boolean; no line folding. */
export function yamlText(v: unknown): string {
  return stringify(v, { version: '1.1', lineWidth: 0 });
}

const snake = (k: string) => (k === '$ref' ? '_ref' : k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));

const namedAny = (name: string, v: unknown): Msg => ({ name, value: { yaml: yamlText(v) } });

/** A JSON object as message `t`, field by field (camelCase keys become the snake_case fields). */
function message(t: protobuf.Type, json: Obj, at: string): Msg {
  const out: Msg = {};
  for (const [k, v] of Object.entries(json)) {
    if (k.startsWith('x-') && t.fields.vendor_extension) {
      ((out.vendor_extension ??= []) as Msg[]).push(namedAny(k, v));
      continue;
    }
    const f = t.fields[snake(k)];
    if (!f) throw new Error(`openapi v2: ${at}: gnostic ${t.name} has no field for "${k}"`);
    out[f.name] = f.repeated ? (v as unknown[]).map((x, i) => value(f, x, `${at}.${k}[${i}]`)) : value(f, v, `${at}.${k}`);
  }
  return out;
}

/** The value of one field: a scalar as is, a message by its type's rules. */
function value(f: protobuf.Field, v: unknown, at: string): unknown {
  const t = f.resolvedType;
  if (!(t instanceof protobuf.Type)) return v;
  const o = v as Obj;
  switch (t.name) {
    case 'Any':
      return { yaml: yamlText(v) };
    case 'TypeItem':
    case 'StringArray':
      return { value: Array.isArray(v) ? v : [v] };
    case 'ItemsItem':
      return { schema: (Array.isArray(v) ? v : [v]).map((s, i) => message(type('Schema'), s as Obj, `${at}[${i}]`)) };
    case 'AdditionalPropertiesItem':
      return typeof v === 'boolean' ? { boolean: v } : { schema: message(type('Schema'), o, at) };
    case 'SchemaItem':
      return o.type === 'file' ? { file_schema: message(type('FileSchema'), o, at) } : { schema: message(type('Schema'), o, at) };
    case 'ParametersItem':
      return typeof o.$ref === 'string' ? { json_reference: { _ref: o.$ref } } : { parameter: parameter(o, at) };
    case 'Parameter':
      return parameter(o, at);
    case 'ResponseValue':
      return typeof o.$ref === 'string' ? { json_reference: { _ref: o.$ref } } : { response: message(type('Response'), o, at) };
    case 'SecurityDefinitionsItem':
      return { [securityKind(o, at)]: message(type(securityType(securityKind(o, at))), o, at) };
    case 'Paths':
      return pairs(t, 'path', o, at);
    case 'Responses':
      return pairs(t, 'response_code', o, at);
  }
  // Maps: messages whose only field is `repeated Named<X> additional_properties`.
  const fields = Object.values(t.fields);
  if (fields.length === 1 && fields[0]!.name === 'additional_properties') return pairs(t, 'additional_properties', o, at);
  return message(t, o, at);
}

/** A JSON map as repeated Named<X>{name, value} in `field`; `x-` keys go to vendor_extension
 *  when the message has one (Paths, Responses). */
function pairs(t: protobuf.Type, field: string, o: Obj, at: string): Msg {
  const named = t.fields[field]!.resolvedType as protobuf.Type;
  const valueField = named.fields.value!;
  const out: Msg = { [field]: [] };
  for (const [k, v] of Object.entries(o)) {
    if (k.startsWith('x-') && t.fields.vendor_extension) ((out.vendor_extension ??= []) as Msg[]).push(namedAny(k, v));
    else (out[field] as Msg[]).push({ name: k, value: value(valueField, v, `${at}.${k}`) });
  }
  return out;
}

const SUB_SCHEMA: Record<string, string> = {
  query: 'query_parameter_sub_schema',
  path: 'path_parameter_sub_schema',
  header: 'header_parameter_sub_schema',
  formData: 'form_data_parameter_sub_schema',
};

/** A parameter: `in: body` is a BodyParameter, the others a NonBodyParameter sub-schema. */
function parameter(o: Obj, at: string): Msg {
  if (o.in === 'body') return { body_parameter: message(type('BodyParameter'), o, at) };
  const sub = SUB_SCHEMA[String(o.in)];
  if (!sub) throw new Error(`openapi v2: ${at}: parameter "in" must be body, query, path, header or formData, not ${JSON.stringify(o.in)}`);
  const subType = (type('NonBodyParameter').fields[sub]!.resolvedType as protobuf.Type);
  return { non_body_parameter: { [sub]: message(subType, o, at) } };
}

function securityKind(o: Obj, at: string): string {
  if (o.type === 'basic') return 'basic_authentication_security';
  if (o.type === 'apiKey') return 'api_key_security';
  const flow = { implicit: 'implicit', password: 'password', application: 'application', accessCode: 'access_code' }[String(o.flow)];
  if (o.type === 'oauth2' && flow) return `oauth2_${flow}_security`;
  throw new Error(`openapi v2: ${at}: unknown security definition type ${JSON.stringify(o.type)}`);
}

const securityType = (kind: string) => (type('SecurityDefinitionsItem').fields[kind]!.resolvedType as protobuf.Type).name;
