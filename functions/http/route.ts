/**
 * What a route of the table (functions/routes.ts) says, and the types derived from it: the input a
 * route's use case gets (path parameters, query and body parsed by the route's schemas) and the
 * reply it gives (`z.infer` of the route's 2xx response schema).
 */
import type * as z from 'zod/mini';
import type { Permission, Principal } from '../../lib/auth.js';
import type { IfMatch } from '../../lib/ports.js';

/** The deployed functions serving HTTP routes (serverless.yml `functions:`). */
export type FunctionName = 'healthz' | 'openapi' | 'config' | 'resolve' | 'provisioningStatus' | 'drift';

/** A mapping config document in the request: JSON or YAML text, read by the config parser (lib/config/parse.ts) with positions for errors. */
export const MAPPING_CONFIG = 'MappingConfig';
/** The stored config version (the document plus `version`), JSON or YAML. */
export const STORED_CONFIG = 'StoredConfig';
export type ConfigComponent = typeof MAPPING_CONFIG | typeof STORED_CONFIG;

export type Schema = z.core.$ZodType;

/** A config document body as the edge hands it on: size-checked UTF-8 text and its Content-Type. */
export interface ConfigBody {
  text: string;
  contentType: string | undefined;
}

export interface ResponseSpec {
  description: string;
  /** The body's schema (or the config component); none for a response without a body. */
  schema?: Schema | ConfigComponent;
  /** Also served as YAML (`Accept: application/yaml`). */
  yaml?: boolean;
  /** Carries an `ETag` header. */
  etag?: boolean;
  /** Other response headers it carries (documented). */
  headers?: readonly HeaderSpec[];
}

export interface HeaderSpec {
  name: string;
  description: string;
}

export interface RouteSpec {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** API Gateway path, `{name}` for a parameter. */
  path: string;
  /** The function serving it (one Lambda per function, several routes each). */
  fn: FunctionName;
  /** The permission the caller's role needs; null = no authentication (healthz, openapi). */
  permission: Permission | null;
  /** The use case: the name of the operation the function implements for this route. */
  useCase: string;
  summary: string;
  description?: string;
  tag: 'config' | 'resolve' | 'provisioning' | 'drift' | 'service';
  request?: {
    query?: z.ZodMiniObject;
    /** A JSON body parsed by this schema; MAPPING_CONFIG: a config document (JSON or YAML). */
    body?: Schema | typeof MAPPING_CONFIG;
    /** The body may be empty (then parsed as `{}`). */
    optionalBody?: boolean;
    /** Request headers the route reads (documented). */
    headers?: readonly HeaderSpec[];
  };
  responses: Readonly<Record<number, ResponseSpec>>;
}

// ------------------------------------------------------------------------------ derived types

type PathParamNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}` ? N | PathParamNames<Rest> : never;

type BodyOf<R extends RouteSpec> = R['request'] extends { body: infer B }
  ? B extends typeof MAPPING_CONFIG
    ? ConfigBody
    : B extends Schema
      ? z.infer<B>
      : undefined
  : undefined;

type QueryOf<R extends RouteSpec> = R['request'] extends { query: infer Q extends Schema } ? z.infer<Q> : Record<string, never>;

/** What a route's use case gets: parsed and validated at the edge. */
export interface RouteInput<R extends RouteSpec> {
  path: { [K in PathParamNames<R['path']>]: string };
  query: QueryOf<R>;
  body: BodyOf<R>;
  /** The caller (null on routes without authentication). */
  principal: R['permission'] extends null ? null : Principal;
  /** `If-Match`, parsed (routes declaring the header). */
  ifMatch: IfMatch | undefined;
  /** Request header by lower-case name. */
  header: (name: string) => string | undefined;
  requestId: string;
}

type SuccessStatus<R extends RouteSpec> = Extract<keyof R['responses'], 200 | 201 | 204>;
/** The body of a route's reply with status S (`z.infer` of its schema). */
export type SchemaOfStatus<R extends RouteSpec, S extends keyof R['responses']> = R['responses'][S] extends { schema: infer B }
  ? B extends Schema
    ? z.infer<B>
    : Record<string, unknown>
  : undefined;

/** The success body of a route (`z.infer` of its 2xx response schema). */
export type RouteReply<R extends RouteSpec> = SchemaOfStatus<R, SuccessStatus<R>>;

/** What an operation returns: the 2xx body, or a full reply when it sets a status (304) or headers (ETag). */
export type OperationResult<R extends RouteSpec> =
  | RouteReply<R>
  | { reply: true; status: number; body?: RouteReply<R>; headers?: Record<string, string> }
  /** Accepted: the body of the route's 202 (a route declaring one). */
  | (202 extends keyof R['responses'] ? { reply: true; status: 202; body: SchemaOfStatus<R, 202>; headers?: Record<string, string> } : never)
  /** A body already rendered (YAML), with its Content-Type among `headers`. */
  | { reply: true; status: number; text: string; headers: Record<string, string> };

/** A reply with its status and headers (and body, unless none). */
export const reply = <T>(status: number, body?: T, headers?: Record<string, string>) => ({
  reply: true as const,
  status,
  ...(body !== undefined ? { body } : {}),
  ...(headers ? { headers } : {}),
});

/** A 202 Accepted reply (routes declaring 202): the work goes on elsewhere. */
export const accepted = <T>(body: T, headers?: Record<string, string>) => ({
  reply: true as const,
  status: 202 as const,
  body,
  ...(headers ? { headers } : {}),
});
