import { SequorError } from '@sequor/model';

/** What the client was doing when the registry failed: enough to reproduce the call by hand. */
export interface SchemaRegistryRequest {
  /** The registry's base URL without credentials, e.g. `http://127.0.0.1:8081`. */
  readonly url: string;
  readonly method: string;
  /** The path below the base URL, e.g. `/subjects/events-value/versions`. */
  readonly path: string;
}

/**
 * The Confluent Schema Registry refused a request or could not be reached. `status` is the HTTP status
 * (undefined when no answer came: connection refused, timeout); `errorCode` is the registry's own
 * `error_code` (e.g. 40403 schema not found, 409 incompatible, 42201 invalid schema) when it sent one.
 * Retriable when no answer came, for 5xx, 408 and 429; never for other 4xx: the same request would be
 * refused again.
 */
export class SchemaRegistryError extends SequorError {
  readonly url: string;
  readonly method: string;
  readonly path: string;

  constructor(
    request: SchemaRegistryRequest,
    readonly status: number | undefined,
    readonly errorCode: number | undefined,
    detail: string,
    cause?: unknown,
  ) {
    super(`schema registry ${request.method} ${request.url}${request.path}: ${detail}`, {
      retriable: isRetriableStatus(status),
      cause,
    });
    this.url = request.url;
    this.method = request.method;
    this.path = request.path;
  }
}

/** 409: the schema breaks the subject's compatibility level (BACKWARD by default) against earlier versions. */
export class IncompatibleSchemaError extends SchemaRegistryError {}

/** 422: the registry cannot parse the schema (error code 42201) or another argument is invalid (422xx). */
export class InvalidSchemaError extends SchemaRegistryError {}

/** 404: no such subject (40401), version (40402) or schema id (40403). */
export class SchemaNotFoundError extends SchemaRegistryError {}

/** 401/403: wrong or missing SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD, or not allowed. */
export class SchemaRegistryAuthError extends SchemaRegistryError {}

export function isRetriableStatus(status: number | undefined): boolean {
  return status === undefined || status >= 500 || status === 408 || status === 429;
}

/** The typed error for an HTTP answer with a failure status. */
export function schemaRegistryErrorFor(
  request: SchemaRegistryRequest,
  status: number,
  errorCode: number | undefined,
  detail: string,
): SchemaRegistryError {
  switch (status) {
    case 409:
      return new IncompatibleSchemaError(request, status, errorCode, detail);
    case 422:
      return new InvalidSchemaError(request, status, errorCode, detail);
    case 404:
      return new SchemaNotFoundError(request, status, errorCode, detail);
    case 401:
    case 403:
      return new SchemaRegistryAuthError(request, status, errorCode, detail);
    default:
      return new SchemaRegistryError(request, status, errorCode, detail);
  }
}
