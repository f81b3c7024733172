#!/usr/bin/env node
// Helpers for kafka.sh that need sockets, with no npm dependencies (they run before `npm ci`):
//   node probe.mjs free-ports <n>                        print n distinct free TCP ports on 127.0.0.1
//   node probe.mjs ready <host:port> <timeoutSec> [pid]  wait until a Metadata request succeeds
//
// "Ready" means the broker answered a Metadata request (v4: the lowest version Kafka 4.x still accepts,
// KIP-896, and one every 3.x broker speaks) with at least one live broker, and FindCoordinator (v1) finds
// a group coordinator and a transaction coordinator. An open port is not enough: a KRaft broker can accept
// connections before it has caught up with the metadata log; and the internal topics behind the
// coordinators are created on first use, which would otherwise make the first test's consumer group or
// transaction wait and retry.
import net from 'node:net';

const [command, ...args] = process.argv.slice(2);

if (command === 'free-ports') {
  const count = Number(args[0] ?? '1');
  const servers = [];
  const ports = [];
  // Hold every listener open until all ports are chosen, so the n ports are distinct.
  for (let i = 0; i < count; i++) {
    const server = net.createServer();
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    servers.push(server);
    ports.push(server.address().port);
  }
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  console.log(ports.join(' '));
} else if (command === 'ready') {
  const [address, timeoutSec = '60', pidArg] = args;
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator);
  const port = Number(address.slice(separator + 1));
  const deadline = Date.now() + Number(timeoutSec) * 1000;
  const pid = pidArg === undefined ? undefined : Number(pidArg);
  let lastError = 'no attempt yet';
  for (;;) {
    if (pid !== undefined && !isAlive(pid)) {
      console.error(`probe: broker process ${pid} exited before it became ready (last error: ${lastError})`);
      process.exit(2);
    }
    try {
      const brokers = await metadataBrokerCount(host, port, 2000);
      if (brokers === 0) {
        lastError = 'metadata response listed no brokers';
      } else {
        const groupError = await findCoordinatorError(host, port, 0, 2000);
        const transactionError = await findCoordinatorError(host, port, 1, 2000);
        if (groupError === 0 && transactionError === 0) process.exit(0);
        lastError = `FindCoordinator error codes: group ${groupError}, transaction ${transactionError}`;
      }
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      console.error(`probe: ${address} not ready after ${timeoutSec}s (last error: ${lastError})`);
      process.exit(1);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
} else {
  console.error('usage: probe.mjs free-ports <n> | ready <host:port> <timeoutSec> [pid]');
  process.exit(64);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Frames a request: size, header v1 (api_key, api_version, correlation_id, client_id), body. */
function requestFrame(apiKey, apiVersion, correlationId, body) {
  const clientId = Buffer.from('sequor-kafka-probe');
  const header = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  let o = header.writeInt16BE(apiKey, 0);
  o = header.writeInt16BE(apiVersion, o);
  o = header.writeInt32BE(correlationId, o);
  o = header.writeInt16BE(clientId.length, o);
  clientId.copy(header, o);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length, 0);
  return Buffer.concat([size, header, body]);
}

/** Sends one request and resolves with the response body (after size and correlation id). */
function roundTrip(host, port, frame, correlationId, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => socket.write(frame));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
      clearTimeout(timer);
      socket.destroy();
      // Response header v0: correlation_id.
      if (received.readInt32BE(4) !== correlationId) reject(new Error('unexpected correlation id'));
      else resolve(received.subarray(8, 4 + received.readInt32BE(0)));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error('connection closed before a full response'));
    });
  });
}

/** Metadata v4 for no topics: topics=[] and allow_auto_topic_creation=false. Returns the broker count. */
async function metadataBrokerCount(host, port, timeoutMs) {
  const body = Buffer.alloc(5);
  body.writeInt32BE(0, 0);
  body.writeInt8(0, 4);
  const response = await roundTrip(host, port, requestFrame(3, 4, 7, body), 7, timeoutMs);
  // Body v4: throttle_time_ms, then the brokers array length.
  return response.readInt32BE(4);
}

/**
 * FindCoordinator v1 for a probe key (key_type 0 = group, 1 = transaction). Asking creates the internal
 * topic behind the coordinator if needed; returns the error code (0 once a coordinator is available).
 */
async function findCoordinatorError(host, port, keyType, timeoutMs) {
  const key = Buffer.from('sequor-kafka-probe');
  const body = Buffer.alloc(2 + key.length + 1);
  body.writeInt16BE(key.length, 0);
  key.copy(body, 2);
  body.writeInt8(keyType, 2 + key.length);
  const response = await roundTrip(host, port, requestFrame(10, 1, 9, body), 9, timeoutMs);
  // Body v1: throttle_time_ms, error_code, ...
  return response.readInt16BE(4);
}
