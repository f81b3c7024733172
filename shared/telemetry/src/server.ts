import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SequorError } from '@sequor/model';

/** Serves the scrape: `@opentelemetry/exporter-prometheus`'s request handler, or nothing when disabled. */
export type MetricsHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Whether the service can do its work: joined its group, partitions assigned, state restored. Starts
 * not ready ("starting"). The reason is shown by /readyz, so say what is missing.
 */
export class Readiness {
  private readyNow = false;
  private why = 'starting';

  set(ready: boolean, reason: string): void {
    this.readyNow = ready;
    this.why = reason;
  }

  get ready(): boolean {
    return this.readyNow;
  }

  get reason(): string {
    return this.why;
  }
}

/** The telemetry server could not listen (port taken, no permission). */
export class TelemetryServerError extends SequorError {
  constructor(
    readonly host: string | undefined,
    readonly port: number,
    cause: unknown,
  ) {
    super(`telemetry server cannot listen on ${host ?? '*'}:${port} (METRICS_PORT / METRICS_HOST)`, {
      cause,
    });
  }
}

const TEXT = 'text/plain; charset=utf-8';

/**
 * One `node:http` server per service: `GET /metrics` (Prometheus text format), `GET /healthz` (200 while
 * the process runs its event loop), `GET /readyz` (200 when ready, else 503 with the reason). Kubernetes
 * probes and Prometheus use the same port, so a pod exposes one.
 */
export class TelemetryServer {
  private constructor(
    private readonly server: Server,
    /** The port it listens on (the chosen one when 0 was asked for). */
    readonly port: number,
  ) {}

  static listen(options: {
    readonly port: number;
    readonly host?: string | undefined;
    readonly readiness: Readiness;
    readonly metrics: MetricsHandler | undefined;
  }): Promise<TelemetryServer> {
    const { readiness, metrics } = options;
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?', 1)[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { 'content-type': TEXT, allow: 'GET, HEAD' }).end('method not allowed\n');
        return;
      }
      switch (path) {
        case '/metrics':
          if (metrics === undefined) {
            // OTEL_SDK_DISABLED: an empty exposition is a valid scrape, not an error to page on.
            response
              .writeHead(200, { 'content-type': TEXT })
              .end('# OpenTelemetry SDK disabled (OTEL_SDK_DISABLED)\n');
          } else {
            metrics(request, response);
          }
          return;
        case '/healthz':
          response.writeHead(200, { 'content-type': TEXT }).end('ok\n');
          return;
        case '/readyz':
          if (readiness.ready)
            response.writeHead(200, { 'content-type': TEXT }).end(`ready: ${readiness.reason}\n`);
          else response.writeHead(503, { 'content-type': TEXT }).end(`not ready: ${readiness.reason}\n`);
          return;
        default:
          response
            .writeHead(404, { 'content-type': TEXT })
            .end('not found: try /metrics, /healthz, /readyz\n');
      }
    });
    // Scrapes and probes are short: do not let an idle keep-alive connection hold shutdown.
    server.keepAliveTimeout = 5_000;
    return new Promise((resolve, reject) => {
      server.once('error', (error) => reject(new TelemetryServerError(options.host, options.port, error)));
      server.listen(options.port, options.host, () => {
        resolve(new TelemetryServer(server, (server.address() as AddressInfo).port));
      });
    });
  }

  /** Stops listening and closes idle connections; resolves when the server is closed. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeIdleConnections();
    });
  }
}
