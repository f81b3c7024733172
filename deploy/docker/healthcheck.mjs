// The image's HEALTHCHECK: GET /healthz on the service's own metrics server (METRICS_PORT, default 9464),
// exit 0 when it answers 200 within 2 s, else 1. Node only: the distroless runtime has no curl or shell.
const port = Number(process.env.METRICS_PORT || 9464);
try {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
  process.exit(response.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
