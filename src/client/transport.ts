// The seam between a client and an API server. The HTTP transport (client/http.ts) speaks HTTPS
// to a remote server; the in-process transport is handed out by the apiserver itself and calls its
// request handler directly, so components in one process skip sockets and JSON but keep every
// API semantic (defaulting, validation, admission, watch).
import type { KubeObject, WatchEvent } from '../api/types.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiRequest {
  method: HttpMethod;
  /** Absolute API path, e.g. `/apis/apps/v1/namespaces/default/deployments/web/scale`. */
  path: string;
  query?: Record<string, string | string[] | undefined>;
  /** Content type of `body` (for PATCH: the patch type, e.g. `application/merge-patch+json`). */
  contentType?: string;
  /** The decoded body (a JSON value). Transports own the encoding. */
  body?: unknown;
  accept?: string;
}

export interface ApiResponse {
  status: number;
  /** Decoded JSON body (an object or a Status), or a string for text answers. */
  body: unknown;
}

/** A running watch: iterate its events; close() ends it (idempotent) and ends the iteration. */
export interface WatchStream<T = KubeObject> extends AsyncIterable<WatchEvent<T>> {
  close(): void;
}

export interface Transport {
  /** One request. Resolves with any HTTP status; rejects only when no answer came (I/O). */
  request(req: ApiRequest): Promise<ApiResponse>;
  /** Opens a watch (`req.query.watch` is set by the caller). Rejects with a StatusError when the
   *  server refuses it (e.g. 410 Expired); a watch that ends later just ends its iteration, and an
   *  ERROR event carries a Status. */
  watch(req: ApiRequest): Promise<WatchStream>;
  close?(): void;
}
