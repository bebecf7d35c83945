// Kubernetes `Status` errors. Every failure a request can meet is a StatusError carrying the
// Status object the API answers with; messages follow k8s.io/apimachinery's errors package
// word for word, because kubectl prints them as they are and users search for them.
import type { Status, StatusCause } from './types.js';

export class StatusError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message ?? status.reason ?? 'error');
    this.status = status;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

export function isStatusError(e: unknown, reason?: string): e is StatusError {
  return e instanceof StatusError && (reason === undefined || e.status.reason === reason);
}

function make(code: number, reason: string, message: string, details?: Status['details']): StatusError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = details;
  return new StatusError(status);
}

/** `deployments.apps` for grouped resources, `pods` for the core group. */
export function qualifiedResource(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const errors = {
  notFound(resource: string, group: string, name: string): StatusError {
    return make(404, 'NotFound', `${qualifiedResource(resource, group)} "${name}" not found`, detail(name, group, resource));
  },
  /** A path no served resource answers to (kube-apiserver's generic 404). */
  notFoundResource(): StatusError {
    return make(404, 'NotFound', 'the server could not find the requested resource', {});
  },
  alreadyExists(resource: string, group: string, name: string): StatusError {
    return make(409, 'AlreadyExists', `${qualifiedResource(resource, group)} "${name}" already exists`, detail(name, group, resource));
  },
  conflict(resource: string, group: string, name: string, why: string): StatusError {
    return make(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} "${name}": ${why}`, detail(name, group, resource));
  },
  /** The optimistic-concurrency failure: the caller's resourceVersion is stale. */
  staleConflict(resource: string, group: string, name: string): StatusError {
    return errors.conflict(resource, group, name, 'the object has been modified; please apply your changes to the latest version and try again');
  },
  /** 422 with one cause per field error; `kind` is the Kind ("Pod"); the message names the
   *  group-qualified kind (`Deployment.apps "web" is invalid: …`), as Kubernetes words it. */
  invalid(kind: string, group: string, name: string, fieldErrors: FieldError[]): StatusError {
    const parts = fieldErrors.map(formatFieldError);
    const list = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
    const causes: StatusCause[] = fieldErrors.map((e) => ({ reason: e.type, message: formatFieldErrorBody(e), field: e.field }));
    const details: Status['details'] = { name, kind, causes };
    if (group) details.group = group;
    return make(422, 'Invalid', `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${list}`, details);
  },
  badRequest(message: string, causes?: StatusCause[]): StatusError {
    return make(400, 'BadRequest', message, causes ? { causes } : undefined);
  },
  unauthorized(message = 'Unauthorized'): StatusError {
    return make(401, 'Unauthorized', message);
  },
  forbidden(message: string): StatusError {
    return make(403, 'Forbidden', message);
  },
  methodNotAllowed(message = 'the server does not allow this method on the requested resource'): StatusError {
    return make(405, 'MethodNotAllowed', message);
  },
  notAcceptable(message: string): StatusError {
    return make(406, 'NotAcceptable', message);
  },
  /** A watch or list continuation from a compacted revision: clients relist on 410. */
  expired(message: string): StatusError {
    return make(410, 'Expired', message);
  },
  gone(message: string): StatusError {
    return make(410, 'Gone', message);
  },
  tooLarge(limit: number): StatusError {
    return make(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
  },
  unsupportedMediaType(contentType: string, accepted: string[]): StatusError {
    return make(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`, {
      causes: [{ reason: 'UnexpectedServerResponse', message: `unsupported content type "${contentType}"` }],
    });
  },
  tooManyRequests(message: string, retryAfterSeconds: number): StatusError {
    return make(429, 'TooManyRequests', message, { retryAfterSeconds });
  },
  internal(message: string): StatusError {
    return make(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
  },
  serviceUnavailable(message: string): StatusError {
    return make(503, 'ServiceUnavailable', message);
  },
  timeout(message: string): StatusError {
    return make(504, 'Timeout', message);
  },
};

function detail(name: string, group: string, resource: string): Status['details'] {
  const d: Status['details'] = { name, kind: resource };
  if (group) d.group = group;
  return d;
}

export function successStatus(details?: Status['details']): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) s.details = details;
  return s;
}

// ---- field errors (k8s.io/apimachinery/pkg/util/validation/field) ----

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotFound';

export interface FieldError {
  type: FieldErrorType;
  /** The JSON path in Kubernetes' notation: `spec.containers[0].image`, `metadata.labels[app]`. */
  field: string;
  value?: unknown;
  detail?: string;
  /** For NotSupported: the values that would have been accepted. */
  supported?: string[];
}

export const field = {
  required: (f: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field: f, ...(detail ? { detail } : {}) }),
  invalid: (f: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field: f, value, detail }),
  notSupported: (f: string, value: unknown, supported: string[]): FieldError => ({ type: 'FieldValueNotSupported', field: f, value, supported }),
  duplicate: (f: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field: f, value }),
  forbidden: (f: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field: f, detail }),
  tooLong: (f: string, value: unknown, max: number): FieldError => ({ type: 'FieldValueTooLong', field: f, value, detail: `must have at most ${max} bytes` }),
  tooMany: (f: string, actual: number, max: number): FieldError => ({ type: 'FieldValueTooMany', field: f, value: actual, detail: `must have at most ${max} items` }),
  typeInvalid: (f: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueTypeInvalid', field: f, value, detail }),
  notFound: (f: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound', field: f, value }),
};

const typeWords: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueNotFound: 'Not found',
};

function quote(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The part after "field: ", as in field.Error.ErrorBody(). */
export function formatFieldErrorBody(e: FieldError): string {
  let s = typeWords[e.type];
  const showsValue = e.type !== 'FieldValueRequired' && e.type !== 'FieldValueForbidden' && e.type !== 'FieldValueTooMany' && 'value' in e;
  if (showsValue) s += `: ${quote(e.value)}`;
  if (e.type === 'FieldValueNotSupported' && e.supported) s += `: supported values: ${e.supported.map((x) => JSON.stringify(x)).join(', ')}`;
  else if (e.detail) s += `: ${e.detail}`;
  return s;
}

export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${formatFieldErrorBody(e)}`;
}
