#!/usr/bin/env node
// Helpers for kafka.sh that need sockets, with no npm dependencies (they run before `npm ci`):
//   node probe.mjs free-ports <n>                        print n distinct free TCP ports on 127.0.0.1
//   node probe.mjs ready <host:port> <timeoutSec> [pid]  wait until a Metadata request succeeds
//
// "Ready" means the broker answered a Metadata request (v4: the lowest version Kafka 4.x still accepts,
// KIP-896, and one every 3.x broker speaks) with at least one live broker. An open port is not enough:
// a KRaft broker can accept connections before it has caught up with the metadata log and unfenced.
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
      if (brokers > 0) process.exit(0);
      lastError = 'metadata response listed no brokers';
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

/** Sends Metadata v4 for no topics and returns the number of brokers in the answer. */
function metadataBrokerCount(host, port, timeoutMs) {
  const clientId = Buffer.from('sequor-kafka-probe');
  const correlationId = 7;
  // Request header v1: api_key, api_version, correlation_id, client_id; body v4: topics=[] and
  // allow_auto_topic_creation=false.
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
  let o = 0;
  o = body.writeInt16BE(3, o); // Metadata
  o = body.writeInt16BE(4, o);
  o = body.writeInt32BE(correlationId, o);
  o = body.writeInt16BE(clientId.length, o);
  o += clientId.copy(body, o);
  o = body.writeInt32BE(0, o);
  body.writeInt8(0, o);
  const frame = Buffer.alloc(4 + body.length);
  frame.writeInt32BE(body.length, 0);
  body.copy(frame, 4);

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
      try {
        // Response header v0: correlation_id; body v4: throttle_time_ms, brokers[...].
        if (received.readInt32BE(4) !== correlationId) throw new Error('unexpected correlation id');
        resolve(received.readInt32BE(12));
      } catch (error) {
        reject(error);
      }
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
