// ConfigMaps and Secrets: key names, the 1 MiB size limit, typed-secret required keys and the
// `immutable` flag.
import { field, type FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import type { KindValidator } from './kind.js';
import { bool, jsonEqual, key, obj, str, tooLong, utf8Length, type Obj } from './shape.js';
import { isConfigMapKey, nameIsDNSSubdomain } from './strings.js';

export const MAX_SECRET_SIZE = 1024 * 1024;

/** Decoded length of a base64 value, or an error text like Go's encoding/base64. */
export function base64Length(v: string): number | string {
  const s = v.replace(/[\r\n]/g, '');
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return `illegal base64 data at input byte ${bad}`;
  if (s.length % 4 !== 0) return `illegal base64 data at input byte ${s.length - (s.length % 4)}`;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const firstPad = s.indexOf('=');
  if (firstPad >= 0 && firstPad < s.length - pad) return `illegal base64 data at input byte ${firstPad}`;
  return (s.length / 4) * 3 - pad;
}

function dataMap(v: unknown, path: string, errs: FieldError[]): Obj {
  return obj(v, path, errs) ?? {};
}

function validateConfigMap(o: KubeObject, errs: FieldError[]): void {
  const data = dataMap(o.data, 'data', errs);
  const binary = dataMap(o.binaryData, 'binaryData', errs);
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    isConfigMapKey(k).forEach((m) => errs.push(field.invalid(key('data', k), k, m)));
    if (k in binary) errs.push(field.invalid(key('data', k), k, 'duplicate of key present in binaryData'));
    const s = str(v, key('data', k), errs);
    size += s === undefined ? 0 : utf8Length(s);
  }
  for (const [k, v] of Object.entries(binary)) {
    isConfigMapKey(k).forEach((m) => errs.push(field.invalid(key('binaryData', k), k, m)));
    const len = typeof v === 'string' ? base64Length(v) : 0;
    if (typeof len === 'string') errs.push(field.invalid(key('binaryData', k), '<binary data>', len));
    else size += len;
  }
  // Upstream reports the limit against the whole object, field.NewPath(""), which prints as "[]".
  if (size > MAX_SECRET_SIZE) errs.push(tooLong('[]', MAX_SECRET_SIZE));
  bool(o.immutable, 'immutable', errs);
}

function validateImmutableData(o: KubeObject, old: KubeObject, fields: string[], errs: FieldError[]): void {
  if (old.immutable !== true) return;
  if (o.immutable !== true) errs.push(field.forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) {
    if (!jsonEqual(o[f] ?? {}, old[f] ?? {})) errs.push(field.forbidden(f, 'field is immutable when `immutable` is set'));
  }
}

export const configMapValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec: validateConfigMap,
  updateFirst: true,
  update: (o, old, errs) => validateImmutableData(o, old, ['data', 'binaryData'], errs),
};

/** Go's encoding/json error for the first problem in a document (approximate wording). */
function jsonError(text: string): string | undefined {
  if (text.trim() === '') return 'unexpected end of JSON input';
  try {
    JSON.parse(text);
    return undefined;
  } catch {
    const ch = text.trim()[0] ?? '';
    return ch === '{' || ch === '[' ? 'unexpected end of JSON input' : `invalid character '${ch}' looking for beginning of value`;
  }
}

function validateSecret(o: KubeObject, errs: FieldError[]): void {
  const data = dataMap(o.data, 'data', errs);
  let size = 0;
  const decoded: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) {
    isConfigMapKey(k).forEach((m) => errs.push(field.invalid(key('data', k), k, m)));
    const s = str(v, key('data', k), errs) ?? '';
    const len = base64Length(s);
    if (typeof len === 'string') errs.push(field.invalid(key('data', k), '<secret contents redacted>', len));
    else {
      size += len;
      decoded[k] = Buffer.from(s, 'base64').toString('utf8');
    }
  }
  if (size > MAX_SECRET_SIZE) errs.push(tooLong('data', MAX_SECRET_SIZE));
  const type = str(o.type, 'type', errs) ?? '';
  const has = (k: string) => k in data;
  const requireKey = (k: string) => errs.push(field.required(key('data', k)));
  switch (type) {
    case 'kubernetes.io/service-account-token':
      if (!o.metadata?.annotations?.['kubernetes.io/service-account.name']) errs.push(field.required('metadata.annotations[kubernetes.io/service-account.name]'));
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const k = type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      if (!has(k)) requireKey(k);
      else {
        const err = jsonError(decoded[k] ?? '');
        if (err) errs.push(field.invalid(key('data', k), '<secret contents redacted>', err));
      }
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) (requireKey('username'), requireKey('password'));
      break;
    case 'kubernetes.io/ssh-auth':
      if (!decoded['ssh-privatekey']) requireKey('ssh-privatekey');
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) requireKey('tls.crt');
      if (!has('tls.key')) requireKey('tls.key');
      break;
  }
  bool(o.immutable, 'immutable', errs);
}

export const secretValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec: validateSecret,
  updateFirst: true,
  update(o, old, errs) {
    if ((o.type ?? '') !== (old.type ?? '')) errs.push(field.invalid('type', o.type ?? '', 'field is immutable'));
    validateImmutableData(o, old, ['data'], errs);
  },
};
